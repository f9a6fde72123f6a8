import { useMemo, useSyncExternalStore } from 'react'
import { parseRoute, subscribeToLocation, type Route } from '../router'

function pathname(): string {
  return window.location.pathname
}

/** The current route; re-renders on navigate() and on Back/Forward. */
export function useRoute(): Route {
  const path = useSyncExternalStore(subscribeToLocation, pathname)
  return useMemo(() => parseRoute(path), [path])
}
