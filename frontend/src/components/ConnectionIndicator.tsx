import { useEffect, useId, useSyncExternalStore } from 'react'
import { useConnection } from '../hooks/useConnection'
import { savedCopy as defaultSavedCopy, type SavedCopy } from '../sw/register'
import type { ConnectionInfo, ConnectionState, EventStream } from '../stream/types'

export const connectionLabels: Record<ConnectionState, string> = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  polling: 'Polling',
  offline: 'Offline',
}

/** The tooltip text: when the last event arrived, reconnects so far, the last round trip. */
export function describeConnection({ lastEventAt, reconnects, latencyMs }: ConnectionInfo): string {
  return [
    lastEventAt === null
      ? 'No event received yet'
      : `Last event at ${new Date(lastEventAt).toLocaleTimeString()}`,
    reconnects === 1 ? '1 reconnect' : `${reconnects} reconnects`,
    latencyMs === null ? 'Round trip not measured yet' : `Round trip ${Math.round(latencyMs)} ms`,
  ].join(' · ')
}

/**
 * A colored dot and the state's word, in a status region so screen readers announce changes.
 * The details are its title (a mouse tooltip) and its accessible description; it is focusable
 * so keyboard users reach them too. The description lives outside the status region, so the
 * region's text is exactly the state's word.
 *
 * While not live, if the service worker answered with its saved copies (a reload while offline),
 * a note beside it says that what is shown may be out of date; going live again clears it.
 */
export function ConnectionIndicator({ stream, saved = defaultSavedCopy }: { stream: EventStream; saved?: SavedCopy }) {
  const info = useConnection(stream)
  const savedAt = useSyncExternalStore(saved.subscribe, saved.get)
  const details = describeConnection(info)
  const detailsId = useId()
  const live = info.state === 'live'
  useEffect(() => {
    if (live) saved.clear()
  }, [live, saved])
  return (
    <>
      <div
        role="status"
        className={`connection connection-${info.state}`}
        title={details}
        aria-describedby={detailsId}
        tabIndex={0}
      >
        <span className="connection-dot" aria-hidden="true" />
        {connectionLabels[info.state]}
      </div>
      <span id={detailsId} hidden>
        {details}
      </span>
      {!live && savedAt !== null && (
        <span className="saved-copy" title={describeSavedCopy(savedAt)}>
          Saved copy, may be out of date
        </span>
      )}
    </>
  )
}

export function describeSavedCopy(savedAt: number): string {
  return `Shown from what this device saved at ${new Date(savedAt).toLocaleTimeString()}; messages may have changed since`
}
