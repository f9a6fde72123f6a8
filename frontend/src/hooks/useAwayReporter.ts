import { useEffect } from 'react'

/** How long without input, with the tab hidden, before the user is reported away (ms). */
export const AWAY_AFTER_MS = 10 * 60_000

const INPUTS = ['pointerdown', 'keydown', 'pointermove', 'wheel', 'touchstart'] as const

/**
 * Reports the user away (PUT /api/me/presence {away: true}) after AWAY_AFTER_MS with no input
 * while the tab is hidden, and back ({away: false}) on the first input or the tab showing again.
 * At most one report per change: input while already back sends nothing. A failed report is
 * dropped (the next change tries again; a reconnect starts online anyway).
 */
export function useAwayReporter(setAway: ((away: boolean) => Promise<unknown>) | undefined, doc: Document = document) {
  useEffect(() => {
    if (!setAway) return
    let away = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const report = (next: boolean) => {
      if (away === next) return
      away = next
      setAway(next).catch(() => {
        away = !next
      })
    }
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        if (doc.visibilityState === 'hidden') report(true)
      }, AWAY_AFTER_MS)
    }
    const active = () => {
      report(false)
      arm()
    }
    const visibility = () => {
      if (doc.visibilityState === 'visible') active()
    }
    arm()
    for (const type of INPUTS) doc.addEventListener(type, active, { passive: true })
    doc.addEventListener('visibilitychange', visibility)
    return () => {
      clearTimeout(timer)
      for (const type of INPUTS) doc.removeEventListener(type, active)
      doc.removeEventListener('visibilitychange', visibility)
    }
  }, [setAway, doc])
}
