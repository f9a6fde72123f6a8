import { useCallback, useSyncExternalStore } from 'react'
import type { ConnectionInfo, EventStream } from '../stream/types'

/**
 * The stream's connection state, re-rendering on every change. EventStream.info() must return
 * the same object until something changes (useSyncExternalStore compares by identity).
 */
export function useConnection(stream: EventStream): ConnectionInfo {
  const subscribe = useCallback((listener: () => void) => stream.onInfo(() => listener()), [stream])
  const getSnapshot = useCallback(() => stream.info(), [stream])
  return useSyncExternalStore(subscribe, getSnapshot)
}
