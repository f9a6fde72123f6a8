// The contract between the event stream and the rest of the web client. StreamClient (one
// EventSource) and SharedStream (one EventSource per browser, shared by tabs) both implement
// EventStream; React code sees only this interface, through hooks.
import type { Event } from '../api/types'

/**
 * connecting: first connect in progress. live: the EventSource is open and healthy.
 * reconnecting: the connection dropped (or went silent) and a retry is scheduled or running.
 * polling: SSE failed 3 times in a row but REST requests are answered (e.g. a proxy that buffers
 * SSE); messages are fetched over REST while SSE is retried in the background. While REST fails
 * too (the server is down) the state is reconnecting, never polling.
 * offline: the browser says it has no network.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'offline'

export interface ConnectionInfo {
  state: ConnectionState
  /** When the last event or keepalive arrived (Unix ms), null before the first. */
  lastEventAt: number | null
  /** Reconnects since start (not counting the first connect). */
  reconnects: number
  /** Last measured round trip: a message sent until its echo arrived on the stream (ms). */
  latencyMs: number | null
}

export type EventListener = (event: Event) => void
export type InfoListener = (info: ConnectionInfo) => void

export interface EventStream {
  /** Opens the connection. Idempotent. */
  start(): void
  /** Closes the connection and all timers. */
  stop(): void
  /**
   * Every event once, in order: durable events are de-duplicated by id (a replay after a
   * reconnect, a poll that overlaps the stream). RESYNC is delivered to listeners, which must
   * refetch what they show over REST.
   */
  onEvent(listener: EventListener): () => void
  onInfo(listener: InfoListener): () => void
  info(): ConnectionInfo
  /**
   * Tells the stream a message with this clientId was just sent; when its NEW_MESSAGE echo
   * arrives, latencyMs is updated with the time between.
   */
  expectEcho(clientId: string, sentAt: number): void
}
