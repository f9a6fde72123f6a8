// What the admin features change in the store's snapshot: a user's public state (USER_UPDATED:
// a rename, a role, a deactivation) and the team's settings (TEAM_UPDATED). Pure functions the
// store calls, so the rules stay out of its event switch.
import type { TeamSettings, User } from '../api/types'
import type { Member, Snapshot } from './types'

/**
 * The snapshot's parts that change when user's public state changes: the directory entry (its
 * presence stays what the stream last said) and, for the signed-in user, me. null when nothing
 * changes, so that a replayed event publishes nothing.
 */
export function withUpdatedUser(snapshot: Snapshot, user: User): Partial<Snapshot> | null {
  const patch: Partial<Snapshot> = {}
  const known = snapshot.users[user.id]
  const online = known ? known.online : user.status !== undefined && user.status !== 'offline'
  const member: Member = { ...known, ...withoutAbsent(known, user), online }
  if (!known || !sameUser(known, member)) patch.users = { ...snapshot.users, [user.id]: member }
  if (user.id === snapshot.me.id) {
    const me = { ...snapshot.me, ...withoutAbsent(snapshot.me, user) }
    if (!sameUser(snapshot.me, me)) patch.me = me
  }
  return Object.keys(patch).length === 0 ? null : patch
}

/** The team's settings as TEAM_UPDATED or GET /api/team gave them; null when unchanged. */
export function withTeam(snapshot: Snapshot, team: TeamSettings): Partial<Snapshot> | null {
  const current = snapshot.team
  if (
    current &&
    current.name === team.name &&
    current.iconUrl === team.iconUrl &&
    current.channelCreation === team.channelCreation
  ) {
    return null
  }
  return { team }
}

/** The user's fields, with the optional ones the event leaves out cleared on the known copy:
 * JSON omits a false deactivated or an empty avatar, which means "not" rather than "unchanged".
 * Presence (status) is the stream's business and is kept. */
function withoutAbsent<T extends User>(known: T | undefined, user: User): User {
  const next: User = { ...user }
  if (known?.status !== undefined && user.status === undefined) next.status = known.status
  for (const key of ['deactivated', 'avatar', 'kind'] as const) {
    if (user[key] === undefined && known?.[key] !== undefined) {
      next[key] = undefined
    }
  }
  return next
}

function sameUser(a: User & { online?: boolean }, b: User & { online?: boolean }): boolean {
  return (
    a.username === b.username &&
    a.displayName === b.displayName &&
    a.role === b.role &&
    a.avatar === b.avatar &&
    a.kind === b.kind &&
    a.status === b.status &&
    (a.deactivated ?? false) === (b.deactivated ?? false) &&
    a.online === b.online
  )
}
