import { useCallback, useSyncExternalStore } from 'react'
import type { ChatStoreApi, Snapshot } from '../state/types'

/** The store's current snapshot; re-renders whenever the store publishes a new one. */
export function useChatStore(store: ChatStoreApi): Snapshot {
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store])
  const getSnapshot = useCallback(() => store.getSnapshot(), [store])
  return useSyncExternalStore(subscribe, getSnapshot)
}
