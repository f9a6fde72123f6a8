import { formatTyping } from '../state/typing'

/**
 * Who is typing in the open chat. Always rendered, even empty: a live region announces only
 * changes to a region that already exists, and the fixed height keeps the list from jumping.
 */
export function TypingLine({ names }: { names: readonly string[] }) {
  return (
    <div className="typing" aria-live="polite">
      {formatTyping(names)}
    </div>
  )
}
