// placeholder: replaced by the fecontent branch
// A minimal stand-in with the real picker's interface, so that this branch compiles and its tests
// run: a few emoji as buttons, and Escape or "Close" to leave.
import { useEffect, useRef } from 'react'

const EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '🙏', '🔥', '✅']

export function EmojiPicker(props: { onPick(emoji: string): void; onClose(): void; label?: string }) {
  const { label = 'Pick an emoji' } = props
  const first = useRef<HTMLButtonElement>(null)
  useEffect(() => first.current?.focus(), [])
  return (
    <div
      className="emoji-picker"
      role="dialog"
      aria-label={label}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault()
          event.stopPropagation()
          props.onClose()
        }
      }}
    >
      <div className="emoji-grid">
        {EMOJI.map((emoji, i) => (
          <button key={emoji} ref={i === 0 ? first : undefined} type="button" onClick={() => props.onPick(emoji)}>
            {emoji}
          </button>
        ))}
      </div>
      <button type="button" className="secondary small" onClick={() => props.onClose()}>
        Close
      </button>
    </div>
  )
}
