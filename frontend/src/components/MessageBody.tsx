import { memo, useSyncExternalStore, type ReactNode } from 'react'
import type { FormattedTextProps } from './FormattedText'
import './MessageBody.css'

type Formatter = (props: FormattedTextProps) => ReactNode

let formatter: Formatter | null = null
const listeners = new Set<() => void>()

/**
 * Settles once the Markdown renderer has loaded (or failed to: then bodies stay plain text).
 * Loading starts with this module, so it is usually done before the first history arrives.
 */
export const formatterReady: Promise<void> = import('./FormattedText').then(
  (module) => {
    formatter = module.FormattedText
    for (const listener of listeners) listener()
  },
  () => {},
)

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/**
 * A message's text, formatted as a safe subset of Markdown (FormattedText), with @mentions of
 * known people marked and the reader's highlighted. Until the renderer's chunk is here, the
 * text as typed. The body is a bidi isolate (dir="auto"), so a right-to-left message or a stray
 * U+202E cannot reorder the UI around it.
 */
export const MessageBody = memo(function MessageBody(props: FormattedTextProps) {
  const Formatted = useSyncExternalStore(subscribe, () => formatter)
  return (
    <div className="message-content message-body" dir="auto">
      {Formatted ? <Formatted {...props} /> : <p className="message-plain">{props.content}</p>}
    </div>
  )
})
