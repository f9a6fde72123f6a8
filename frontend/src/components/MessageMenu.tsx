// The "More actions" menu of a message: a button that opens an ARIA menu (WAI-ARIA menu button
// pattern). Arrow keys move between the items (Home/End to the ends), Enter or Space chooses one,
// Escape and Tab close it and put focus back on the button, as does a click outside.
import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react'

export interface MenuEntry {
  key: string
  /** What the item shows. */
  label: string
  /** Its accessible name, when the label alone is not enough (an emoji). */
  ariaLabel?: string
  /** A toggle (menuitemcheckbox): whether it is on. */
  checked?: boolean
  /** Shown in the row of quick reactions at the top. */
  quick?: boolean
  danger?: boolean
  /** Called after the menu closed and focus went back to its button: an action that moves focus
   * elsewhere (an editor, a dialog) can. */
  onSelect: (button: HTMLButtonElement | null) => void
}

interface MessageMenuProps {
  /** "More actions for message from Bob". */
  label: string
  entries: MenuEntry[]
  /** The menu's own name (default "Message actions"). */
  menuLabel?: string
}

export function MessageMenu({ label, entries, menuLabel = 'Message actions' }: MessageMenuProps) {
  const [open, setOpen] = useState(false)
  const [upward, setUpward] = useState(false)
  const wrap = useRef<HTMLDivElement>(null)
  const button = useRef<HTMLButtonElement>(null)
  const menu = useRef<HTMLDivElement>(null)
  const menuId = useId()

  // Opening puts focus on the first item, and the menu above its button when there is no room
  // below it in the message list.
  useLayoutEffect(() => {
    const el = menu.current
    if (!open || !el) return
    items(el)[0]?.focus()
    const room = el.closest('.messages')?.getBoundingClientRect()
    const box = el.getBoundingClientRect()
    if (room && box.bottom > room.bottom && box.height > 0) setUpward(true)
  }, [open])

  useEffect(() => {
    if (!open) return
    const outside = (event: PointerEvent) => {
      if (!wrap.current?.contains(event.target as Node)) setOpen(false)
    }
    document.addEventListener('pointerdown', outside)
    return () => document.removeEventListener('pointerdown', outside)
  }, [open])

  function close() {
    setOpen(false)
    setUpward(false)
    button.current?.focus()
  }

  function keyDown(event: KeyboardEvent<HTMLDivElement>) {
    const el = menu.current
    if (!el) return
    const all = items(el)
    const at = all.indexOf(document.activeElement as HTMLElement)
    const move = (to: number) => {
      event.preventDefault()
      all[(to + all.length) % all.length]?.focus()
    }
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowRight':
        move(at + 1)
        break
      case 'ArrowUp':
      case 'ArrowLeft':
        move(at - 1)
        break
      case 'Home':
        move(0)
        break
      case 'End':
        move(all.length - 1)
        break
      case 'Escape':
      case 'Tab':
        event.preventDefault()
        event.stopPropagation()
        close()
        break
      default:
        break
    }
  }

  function choose(entry: MenuEntry) {
    close()
    entry.onSelect(button.current)
  }

  const quick = entries.filter((e) => e.quick)
  const rest = entries.filter((e) => !e.quick)
  const item = (entry: MenuEntry) => (
    <button
      key={entry.key}
      type="button"
      role={entry.checked === undefined ? 'menuitem' : 'menuitemcheckbox'}
      aria-checked={entry.checked}
      aria-label={entry.ariaLabel}
      tabIndex={-1}
      className={[entry.quick ? 'menu-quick' : 'menu-item', entry.danger ? 'danger' : ''].join(' ')}
      onClick={() => choose(entry)}
    >
      {entry.label}
    </button>
  )

  return (
    <div ref={wrap} className={open ? 'message-actions open' : 'message-actions'}>
      <button
        ref={button}
        type="button"
        className="message-actions-button"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close() : setOpen(true))}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' && !open) {
            event.preventDefault()
            setOpen(true)
          }
        }}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <div
          ref={menu}
          id={menuId}
          role="menu"
          aria-label={menuLabel}
          className={upward ? 'menu upward' : 'menu'}
          onKeyDown={keyDown}
        >
          {quick.length > 0 && (
            <div role="group" aria-label="Quick reactions" className="menu-quick-row">
              {quick.map(item)}
            </div>
          )}
          {quick.length > 0 && rest.length > 0 && <div role="separator" className="menu-separator" />}
          {rest.map(item)}
        </div>
      )}
    </div>
  )
}

function items(menu: HTMLElement): HTMLElement[] {
  return [...menu.querySelectorAll<HTMLElement>('[role="menuitem"], [role="menuitemcheckbox"]')]
}
