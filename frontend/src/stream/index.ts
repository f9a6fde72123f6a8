import { SharedStream, sharedStreamSupported } from './SharedStream'
import { StreamClient, type StreamClientOptions } from './StreamClient'
import type { EventStream } from './types'

export type { StreamClientOptions } from './StreamClient'

/**
 * userId's event stream for this page: shared with the origin's other tabs signed in as userId
 * where the browser has Web Locks and BroadcastChannel (Web Locks needs a secure context: https,
 * or localhost), else a StreamClient of its own. A tab that takes over a shared stream resumes
 * where the previous leader stopped (options.initialLastEventId applies until a leader has seen
 * an event).
 */
export function createEventStream(options: StreamClientOptions, userId: string): EventStream {
  if (!sharedStreamSupported()) return new StreamClient(options)
  return new SharedStream({
    userId,
    createStream: (resumeId) =>
      new StreamClient({ ...options, initialLastEventId: resumeId ?? options.initialLastEventId }),
  })
}
