import { useId, useState } from 'react'
import type { Reaction } from '../api/types'
import './Reactions.css'

interface ReactionsProps {
  /** In the order each emoji was first used (the server's). */
  reactions: readonly Reaction[]
  meId: string
  /** How a person is shown. */
  nameOf: (userId: string) => string
  /** on: add the reader's reaction; off: take it back. */
  onToggle: (emoji: string, on: boolean) => void
  /** Opens the emoji picker, which the parent owns (focus returns to this button). */
  onAdd: () => void
}

/** How many names a tooltip lists before "and N others". */
const MAX_NAMES = 10

/**
 * A message's reactions: a pill per emoji with its count, pressed when the reader is among
 * those who reacted, and clicking it adds or takes back theirs. Who reacted shows on hover and
 * on focus, and is each pill's accessible description. A small button after them adds another.
 * Nothing when the message has no reactions (the message's own actions add the first).
 */
export function Reactions({ reactions, meId, nameOf, onToggle, onAdd }: ReactionsProps) {
  if (reactions.length === 0) return null
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {reactions.map((reaction) => (
        <Pill
          key={reaction.emoji}
          reaction={reaction}
          meId={meId}
          nameOf={nameOf}
          onToggle={onToggle}
        />
      ))}
      <button
        type="button"
        className="reaction-add"
        aria-label="Add reaction"
        aria-haspopup="dialog"
        title="Add reaction"
        onClick={onAdd}
      >
        <SmileyPlus />
      </button>
    </div>
  )
}

function Pill({
  reaction,
  meId,
  nameOf,
  onToggle,
}: {
  reaction: Reaction
  meId: string
  nameOf: (userId: string) => string
  onToggle: (emoji: string, on: boolean) => void
}) {
  const tipId = useId()
  // Escape hides the tooltip until the pointer or focus leaves (WCAG 1.4.13).
  const [dismissed, setDismissed] = useState(false)
  const mine = reaction.userIds.includes(meId)
  return (
    <span
      className={dismissed ? 'reaction-wrap tip-dismissed' : 'reaction-wrap'}
      onMouseLeave={() => setDismissed(false)}
    >
      <button
        type="button"
        className={mine ? 'reaction mine' : 'reaction'}
        aria-pressed={mine}
        aria-describedby={tipId}
        onClick={() => onToggle(reaction.emoji, !mine)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setDismissed(true)
        }}
        onBlur={() => setDismissed(false)}
      >
        <span className="reaction-emoji">{reaction.emoji}</span>{' '}
        <span className="reaction-count">{reaction.count}</span>
      </button>
      <span role="tooltip" id={tipId} className="reaction-tip">
        {whoReacted(reaction.userIds, meId, nameOf)}
      </span>
    </span>
  )
}

/** "Ann", "Ann and you", "Ann, Bob and you", "You"; past MAX_NAMES, "… and 4 others". The
 * reader comes last. */
export function whoReacted(
  userIds: readonly string[],
  meId: string,
  nameOf: (userId: string) => string,
): string {
  const others = userIds.filter((id) => id !== meId).map(nameOf)
  const names = userIds.includes(meId) ? [...others, 'you'] : others
  if (names.length > MAX_NAMES) {
    const rest = names.length - (MAX_NAMES - 1)
    return `${names.slice(0, MAX_NAMES - 1).join(', ')} and ${rest} others`
  }
  if (names.length === 1 && names[0] === 'you') return 'You'
  if (names.length <= 1) return names.join('')
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
}

/** A smiley with a plus: add a reaction. Decorative; the button is named. */
function SmileyPlus() {
  return (
    <svg
      viewBox="0 0 24 24"
      width="16"
      height="16"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d="M20.5 11.5A8.5 8.5 0 1 1 12.5 3" />
      <path d="M8.5 14.5s1.3 2 3.5 2 3.5-2 3.5-2M9 9.5h.01M15 9.5h.01M19 2v6M16 5h6" />
    </svg>
  )
}
