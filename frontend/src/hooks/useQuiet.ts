import { useEffect, useState } from 'react'
import type { Silence } from '../api/types'
import type { ChatStoreApi } from '../state/types'

/** The longest a lookup's answer is trusted before it is asked again (ms): someone may turn do
 * not disturb on or off meanwhile. */
export const QUIET_REFRESH_MS = 5 * 60_000

const NONE: Silence[] = []

/**
 * Who of userIds is in do not disturb or quiet hours now (GET /api/chats/{chatId}/quiet); with
 * userIds null, a DM's other members. Asked again when the ids change, when the earliest silence
 * ends, and every QUIET_REFRESH_MS; a failed lookup shows nobody as quiet (the composer says
 * nothing rather than something wrong).
 */
export function useQuiet(store: Pick<ChatStoreApi, 'quiet'>, chatId: string, userIds: readonly string[] | null): Silence[] {
  const key = userIds === null ? '' : userIds.join(',')
  const ask = userIds === null || userIds.length > 0
  const [answer, setAnswer] = useState<{ for: string; quiet: Silence[] }>({ for: '', quiet: NONE })
  const [round, setRound] = useState(0)
  const asked = `${chatId}|${userIds === null ? '*' : key}`

  useEffect(() => {
    if (!ask) return
    let current = true
    let timer: ReturnType<typeof setTimeout> | undefined
    store
      .quiet(chatId, userIds === null ? undefined : key.split(','))
      .then((quiet) => {
        if (!current) return
        setAnswer({ for: asked, quiet })
        const ends = quiet.map((s) => s.until).filter((u): u is number => u !== undefined)
        const next = Math.min(QUIET_REFRESH_MS, ...ends.map((u) => u - Date.now() + 1000))
        timer = setTimeout(() => setRound((r) => r + 1), Math.max(1000, next))
      })
      .catch(() => {
        if (current) setAnswer({ for: asked, quiet: NONE })
      })
    return () => {
      current = false
      if (timer !== undefined) clearTimeout(timer)
    }
    // userIds is read through key: the same ids in a new array ask nothing new.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, chatId, asked, ask, key, round])

  return ask && answer.for === asked ? answer.quiet : NONE
}
