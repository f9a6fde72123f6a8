import type { Member } from '../state/types'
import { Avatar, PRESENCE_WORDS, PresenceMarker, presenceOf } from './Avatar'
import { personName } from './names'
import { useStatusLine } from './useStatusLine'

/** A chat's members, online first, each with a presence marker (its shape, not only its colour,
 * tells the state) and its words for screen readers: "bob, online". */
export function MemberList({ members }: { members: readonly Member[] }) {
  const sorted = [...members].sort(
    (a, b) => Number(b.online) - Number(a.online) || personName(a).localeCompare(personName(b)),
  )
  return (
    <ul className="members" aria-label="Members">
      {sorted.map((member) => (
        <MemberItem key={member.id} member={member} />
      ))}
    </ul>
  )
}

function MemberItem({ member }: { member: Member }) {
  const presence = presenceOf(member)
  const status = useStatusLine(member)
  return (
    <li className="member">
      <span className="member-avatar">
        <Avatar user={member} size={20} />
        <PresenceMarker status={presence} />
      </span>
      <bdi>{personName(member)}</bdi>
      <span className="visually-hidden">, {PRESENCE_WORDS[presence]}</span>
      {status && (
        <span className="member-status" title={[status.emoji, status.text].filter(Boolean).join(' ')}>
          {status.emoji && <span aria-hidden="true">{status.emoji}</span>}
          {status.text && <span className="visually-hidden">, {status.text}</span>}
        </span>
      )}
    </li>
  )
}
