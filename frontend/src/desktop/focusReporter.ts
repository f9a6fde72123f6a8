// Tells the desktop app whether its window has the user's attention: the app raises native
// notifications only while it does not (a focused, visible window shows them in the page).

/** Focus changes come in bursts (blur then focus when switching windows); report once they
 * settle for this long (ms). */
export const FOCUS_DEBOUNCE_MS = 100

/** The parts of window and document the reporter listens to. */
export type FocusTarget = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>
export type FocusDocument = FocusTarget & Pick<Document, 'hasFocus' | 'hidden'>

export interface FocusReporterOptions {
  /** POST /desktop/focus. */
  report: (focused: boolean) => Promise<void>
  win?: FocusTarget
  doc?: FocusDocument
  delayMs?: number
}

/**
 * Reports document.hasFocus() && !document.hidden at once, then after every focus, blur and
 * visibilitychange (debounced), whenever it differs from the last report that went through. A
 * report that fails is made again on the next change. Returns the stop function.
 */
export function startFocusReporter({
  report,
  win = window,
  doc = document,
  delayMs = FOCUS_DEBOUNCE_MS,
}: FocusReporterOptions): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null
  let reported: boolean | null = null
  let stopped = false

  const send = () => {
    timer = null
    if (stopped) return
    const focused = doc.hasFocus() && !doc.hidden
    if (focused === reported) return
    reported = focused
    report(focused).catch(() => {
      if (reported === focused) reported = null
    })
  }

  const changed = () => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(send, delayMs)
  }

  win.addEventListener('focus', changed)
  win.addEventListener('blur', changed)
  doc.addEventListener('visibilitychange', changed)
  send()

  return () => {
    stopped = true
    if (timer !== null) clearTimeout(timer)
    timer = null
    win.removeEventListener('focus', changed)
    win.removeEventListener('blur', changed)
    doc.removeEventListener('visibilitychange', changed)
  }
}
