import type { Member } from '../state/types'
import { Avatar } from './Avatar'
import { personName } from './names'

/** A chat's members, online first, each with a presence dot and its words for screen readers. */
export function MemberList({ members }: { members: readonly Member[] }) {
  const sorted = [...members].sort(
    (a, b) => Number(b.online) - Number(a.online) || personName(a).localeCompare(personName(b)),
  )
  return (
    <ul className="members" aria-label="Members">
      {sorted.map((member) => (
        <li key={member.id} className="member">
          <span
            className={`presence ${member.online ? 'presence-online' : 'presence-offline'}`}
            aria-hidden="true"
          />
          <Avatar avatar={member.avatar} />
          <bdi>{personName(member)}</bdi>
          <span className="visually-hidden">{member.online ? ', online' : ', offline'}</span>
        </li>
      ))}
    </ul>
  )
}
