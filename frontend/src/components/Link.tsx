import type { AnchorHTMLAttributes, MouseEvent } from 'react'
import { navigate } from '../router'

interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  /** A same-origin path, e.g. chatPath(id). */
  to: string
}

/** An ordinary link that navigates without reloading the page. Modified clicks (new tab, new
 * window, download) and middle clicks are left to the browser. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  function follow(event: MouseEvent<HTMLAnchorElement>) {
    onClick?.(event)
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return
    }
    event.preventDefault()
    navigate(to)
  }
  return <a href={to} onClick={follow} {...rest} />
}
