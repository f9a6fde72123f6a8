import { useId } from 'react'
import { useConnection } from '../hooks/useConnection'
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
 */
export function ConnectionIndicator({ stream }: { stream: EventStream }) {
  const info = useConnection(stream)
  const details = describeConnection(info)
  const detailsId = useId()
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
    </>
  )
}
