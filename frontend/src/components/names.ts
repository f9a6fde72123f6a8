import type { User } from '../api/types'

/** How a person is shown: their display name, else their username. */
export function personName(user: User | undefined): string {
  if (!user) return 'Unknown user'
  return user.displayName || user.username
}
