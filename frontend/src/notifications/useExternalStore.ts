import { useCallback, useSyncExternalStore } from 'react'

/** Anything with subscribe and an immutable snapshot (the notification stores, the toast queue). */
export interface ExternalStore<T> {
  subscribe(listener: () => void): () => void
  getSnapshot(): T
}

/** The store's current snapshot, re-rendering whenever it publishes a new one. */
export function useExternalStore<T>(store: ExternalStore<T>): T {
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store])
  const getSnapshot = useCallback(() => store.getSnapshot(), [store])
  return useSyncExternalStore(subscribe, getSnapshot)
}
