import { PresenceMarker } from './Avatar'
import type { Presence } from './chatNames'

export { PRESENCE_WORDS } from './Avatar'

/** The presence marker of the sidebar's DMs: Avatar's PresenceMarker (a shape, not colour alone:
 * online filled, away half, busy barred, offline a ring). Decorative: the words go beside it. */
export function PresenceMark({ presence }: { presence: Presence }) {
  return <PresenceMarker status={presence} />
}
