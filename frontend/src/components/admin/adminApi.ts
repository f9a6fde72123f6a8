import type { ApiClient } from '../../api/client'

/** What the admin page asks the server (a real ApiClient fits; tests pass a fake). */
export type AdminApi = Pick<
  ApiClient,
  | 'listAccounts'
  | 'setRole'
  | 'setDeactivated'
  | 'createPasswordReset'
  | 'createInvite'
  | 'listInvites'
  | 'revokeInvite'
  | 'listAudit'
  | 'getTeam'
  | 'updateTeam'
  | 'uploadTeamIcon'
  | 'deleteTeamIcon'
  | 'createBot'
  | 'updateBot'
  | 'rotateBotToken'
  | 'revokeBotTokens'
  | 'deleteBot'
>

/** A time for people to read: today's as the time alone, else the date and time. */
export function when(ms: number, now = Date.now()): string {
  const date = new Date(ms)
  const today = new Date(now)
  if (date.toDateString() === today.toDateString()) {
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
  }
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
