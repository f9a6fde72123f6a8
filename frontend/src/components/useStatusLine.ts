import { useEffect, useState } from 'react'
import type { User } from '../api/types'
import { activeStatus } from './Avatar'

/** The longest a timer may wait (setTimeout's limit is 2^31−1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A person's status line as it reads now, or null: a status whose statusExpiresAt has passed is
 * hidden at that moment (the server clears it within 15 s and sends USER_UPDATED; this does not
 * wait for that).
 */
export function useStatusLine(user: Pick<User, 'statusText' | 'statusEmoji' | 'statusExpiresAt'> | undefined) {
  const [now, setNow] = useState(() => Date.now())
  const expiresAt = user?.statusExpiresAt
  useEffect(() => {
    if (!expiresAt) return
    if (now >= expiresAt) return
    // Also when it has passed already (now is from an earlier render): re-render at once.
    const wait = Math.max(0, expiresAt - Date.now() + 50)
    const timer = setTimeout(() => setNow(Date.now()), Math.min(wait, MAX_TIMER_MS))
    return () => clearTimeout(timer)
  }, [expiresAt, now])
  if (!user) return null
  return activeStatus(user, now)
}
