import { useMemo, useSyncExternalStore } from 'react'
import { currentPath, parseRoute, subscribeToLocation, type Route } from '../router'

/** The current route; re-renders on navigate() and on Back/Forward. */
export function useRoute(): Route {
  const path = useSyncExternalStore(subscribeToLocation, currentPath)
  return useMemo(() => parseRoute(path), [path])
}
