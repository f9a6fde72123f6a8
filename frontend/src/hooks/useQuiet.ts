import { useEffect, useMemo, useState } from 'react'
import type { Chat, Silence } from '../api/types'
import { personName } from '../components/names'
import type { QuietPerson } from '../components/quietNotice'
import type { ChatStoreApi, Snapshot } from '../state/types'

/** The longest a lookup's answer is trusted before it is asked again (ms): someone may turn do
 * not disturb on or off meanwhile. */
export const QUIET_REFRESH_MS = 5 * 60_000

/** A window coming back into focus (or a hidden tab shown) asks again once the answer is at least
 * this old (ms): the sender returning to a draft sees whether someone went quiet meanwhile, and
 * focus flapping asks nothing. */
export const QUIET_FOCUS_REFRESH_MS = 15_000

const NONE: Silence[] = []

/**
 * Who of userIds is in do not disturb or quiet hours now (GET /api/chats/{chatId}/quiet); with
 * userIds null, a DM's other members. Asked again when the ids change, when the earliest silence
 * ends, every QUIET_REFRESH_MS, and when the window regains focus after QUIET_FOCUS_REFRESH_MS; a
 * failed lookup shows nobody as quiet (the composer says nothing rather than something wrong).
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
    let answeredAt = Infinity
    const onFocus = () => {
      if (document.visibilityState === 'hidden' || Date.now() - answeredAt < QUIET_FOCUS_REFRESH_MS) return
      answeredAt = Infinity // one ask per answer
      setRound((r) => r + 1)
    }
    window.addEventListener('focus', onFocus)
    document.addEventListener('visibilitychange', onFocus)
    store
      .quiet(chatId, userIds === null ? undefined : key.split(','))
      .then((quiet) => {
        if (!current) return
        answeredAt = Date.now()
        setAnswer({ for: asked, quiet })
        const ends = quiet.map((s) => s.until).filter((u): u is number => u !== undefined)
        const next = Math.min(QUIET_REFRESH_MS, ...ends.map((u) => u - Date.now() + 1000))
        timer = setTimeout(() => setRound((r) => r + 1), Math.max(1000, next))
      })
      .catch(() => {
        if (!current) return
        answeredAt = Date.now()
        setAnswer({ for: asked, quiet: NONE })
      })
    return () => {
      current = false
      window.removeEventListener('focus', onFocus)
      document.removeEventListener('visibilitychange', onFocus)
      if (timer !== undefined) clearTimeout(timer)
    }
    // userIds is read through key: the same ids in a new array ask nothing new.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, chatId, asked, ask, key, round])

  return ask && answer.for === asked ? answer.quiet : NONE
}

/**
 * The people a message written in chat goes to who are in do not disturb or quiet hours, by name:
 * a DM's other people, elsewhere the members the draft mentions (mentioned: user ids). Nobody for
 * a chat that takes no messages (unknown or archived). The main composer and a thread's ask alike.
 */
export function useQuietPeople(
  store: Pick<ChatStoreApi, 'quiet'>,
  chat: Chat | undefined,
  users: Snapshot['users'],
  mentioned: readonly string[],
): QuietPerson[] {
  const writable = chat !== undefined && !chat.archived
  const silences = useQuiet(store, chat?.id ?? '', !writable ? [] : chat.kind === 'dm' ? null : mentioned)
  return useMemo(
    () => silences.map((silence) => ({ name: personName(users[silence.userId]), silence })),
    [silences, users],
  )
}
