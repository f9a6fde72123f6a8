// placeholder: replaced by the fecontent branch
// A minimal stand-in with the real component's interface, so that this branch compiles and its
// tests run: one toggle button per emoji (pressed when the user reacted), and "Add reaction".
import type { Reaction } from '../api/types'

export function Reactions(props: {
  reactions: Reaction[]
  meId: string
  nameOf(userId: string): string
  onToggle(emoji: string, on: boolean): void
  onAdd(): void
}) {
  const { reactions, meId } = props
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {reactions.map((r) => {
        const mine = r.userIds.includes(meId)
        return (
          <button
            key={r.emoji}
            type="button"
            className="reaction"
            aria-pressed={mine}
            title={r.userIds.map((id) => props.nameOf(id)).join(', ')}
            onClick={() => props.onToggle(r.emoji, !mine)}
          >
            {r.emoji} {r.count}
          </button>
        )
      })}
      <button type="button" className="reaction add-reaction" aria-label="Add reaction" onClick={() => props.onAdd()}>
        +
      </button>
    </div>
  )
}
