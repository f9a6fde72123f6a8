import type { Presence } from './chatNames'

/** A presence marker that is not colour alone: online is a filled disc, busy a half-filled one,
 * offline a ring. Decorative: the words go beside it (PRESENCE_WORDS) for screen readers. */
export function PresenceMark({ presence }: { presence: Presence }) {
  return <span className={`presence presence-${presence}`} aria-hidden="true" />
}

export const PRESENCE_WORDS: Record<Presence, string> = {
  online: 'online',
  busy: 'busy',
  offline: 'offline',
}
