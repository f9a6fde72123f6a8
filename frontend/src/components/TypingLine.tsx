/**
 * 'Alice is typing…', 'Alice and Bob are typing…', 'Alice, Bob and Carol are typing…', and
 * for four or more 'Several people are typing…'. '' when nobody is.
 */
export function formatTyping(names: readonly string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return `${names.join('')} is typing…`
  if (names.length > 3) return 'Several people are typing…'
  return `${names.slice(0, -1).join(', ')} and ${names.slice(-1).join('')} are typing…`
}

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
