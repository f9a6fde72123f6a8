// What the admin features change in the store's snapshot: the team's settings (TEAM_UPDATED). A
// user's public state (USER_UPDATED: a rename, a role, a deactivation) is ChatStore's
// applyUserUpdated, shared with profile edits.
import type { TeamSettings } from '../api/types'
import type { Snapshot } from './types'

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
