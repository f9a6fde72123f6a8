import type { AgentStatus, User } from '../api/types'

/**
 * Whether an avatar is shown as an image: only an absolute https URL with a host and no user
 * name. The server accepts nothing else as a URL (backend.CheckAvatar); this check keeps an
 * avatar stored before that rule, or sent by another server, from becoming a javascript:, data:
 * or relative image source.
 */
export function isImageAvatar(avatar: string): boolean {
  if (!avatar.startsWith('https://')) return false
  try {
    const url = new URL(avatar)
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === ''
  } catch {
    return false
  }
}

/**
 * The source of a person's uploaded avatar at 64 or 256 px (the server's two sizes), or null
 * without one. Only the server's own path is used (`/api/users/{id}/avatar?v=N`): the version
 * in it makes every upload a new URL, so a cached old picture never shows for a new one.
 */
export function avatarSrc(user: Pick<User, 'id' | 'avatarUrl' | 'avatarVersion'>, size: 64 | 256): string | null {
  const own = `/api/users/${encodeURIComponent(user.id)}/avatar`
  if (!user.avatarUrl) return null
  if (user.avatarUrl.startsWith(`${own}?`)) return `${user.avatarUrl}&size=${size}`
  // Not the server's path (an old or foreign record): build it from the version, if any.
  return user.avatarVersion ? `${own}?v=${user.avatarVersion}&size=${size}` : null
}

/** Up to two letters for a name: the first of its first and last words ("Alice Smith" → AS). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean)
  if (words.length === 0) return '?'
  const first = [...(words[0] ?? '')][0] ?? ''
  const last = words.length > 1 ? ([...(words[words.length - 1] ?? '')][0] ?? '') : ''
  return (first + last).toUpperCase()
}

/** What an avatar is drawn from: any record with a person's (or bot's) picture fields. */
export type AvatarUser = Pick<User, 'id' | 'username' | 'displayName'> &
  Partial<Pick<User, 'kind' | 'avatar' | 'avatarUrl' | 'avatarVersion' | 'avatarColor'>>

type AvatarProps =
  /** A bot's avatar text or URL (the older form). */
  | { avatar: string | undefined; user?: undefined; size?: undefined }
  /** Anyone: a person's uploaded picture, else their initials on their colour; a bot's avatar.
   * size is the drawn size in CSS px (default 20); the 64 px image is used up to 32 px. */
  | { user: AvatarUser | undefined; size?: number; avatar?: undefined }

/** A picture for a person or bot. Decorative (alt ""): the name is always written next to it. */
export function Avatar(props: AvatarProps) {
  if (props.user === undefined) return <BotAvatar avatar={props.avatar} />
  const { user } = props
  const size = props.size ?? 20
  const style = { width: size, height: size, lineHeight: `${size}px`, fontSize: Math.max(9, Math.round(size * 0.42)) }
  if (user.kind === 'bot' && user.avatar) {
    return isImageAvatar(user.avatar) ? (
      <img className="avatar user-avatar" src={user.avatar} alt="" width={size} height={size} style={style} referrerPolicy="no-referrer" />
    ) : (
      <span className="avatar user-avatar bot-avatar" aria-hidden="true" dir="auto" style={style}>
        {user.avatar}
      </span>
    )
  }
  const src = avatarSrc(user, size <= 32 ? 64 : 256)
  if (src) {
    return <img className="avatar user-avatar" src={src} alt="" width={size} height={size} style={style} />
  }
  return (
    // The letters are drawn by CSS (::before) so that they stay out of the text of what holds
    // the avatar: a member list item reads "bob, online", not "Bbob, online".
    <span
      className="avatar user-avatar initials"
      aria-hidden="true"
      data-initials={initials(user.displayName || user.username)}
      style={{ ...style, background: user.avatarColor ?? '#5e5d60' }}
    />
  )
}

function BotAvatar({ avatar }: { avatar: string | undefined }) {
  if (!avatar) return null
  if (isImageAvatar(avatar)) {
    return <img className="avatar" src={avatar} alt="" width={18} height={18} referrerPolicy="no-referrer" />
  }
  return (
    <span className="avatar" aria-hidden="true" dir="auto">
      {avatar}
    </span>
  )
}

/** A person's presence as the server reports it; no status is offline. */
export function presenceOf(user: Pick<User, 'status'> & { online?: boolean }): AgentStatus {
  if (user.status) return user.status
  return user.online ? 'online' : 'offline'
}

/** The words for a presence, as screen readers say it after the name ("bob, away"). */
export const PRESENCE_WORDS: Record<AgentStatus, string> = {
  online: 'online',
  away: 'away',
  busy: 'busy',
  offline: 'offline',
}

/**
 * A presence marker that does not rely on colour: online a filled dot, away a half-filled one,
 * busy a dot with a bar, offline a ring. Decorative: the words go next to the name
 * (PRESENCE_WORDS), so that the accessible name reads "bob, away".
 */
export function PresenceMarker({ status }: { status: AgentStatus }) {
  return (
    <svg className={`presence-marker pm-${status}`} viewBox="0 0 10 10" width="10" height="10" aria-hidden="true" focusable="false">
      {status === 'online' && <circle cx="5" cy="5" r="4.5" className="pm-fill" />}
      {status === 'away' && (
        <>
          <circle cx="5" cy="5" r="3.9" className="pm-ring" />
          <path d="M5 .5 A4.5 4.5 0 0 0 5 9.5 Z" className="pm-fill" />
        </>
      )}
      {status === 'busy' && (
        <>
          <circle cx="5" cy="5" r="4.5" className="pm-fill" />
          <rect x="2.2" y="4" width="5.6" height="2" className="pm-cut" />
        </>
      )}
      {status === 'offline' && <circle cx="5" cy="5" r="3.9" className="pm-ring" />}
    </svg>
  )
}

/** Whether a status line is to be shown at now (Unix ms): set, and its expiry not passed. */
export function activeStatus(user: Pick<User, 'statusText' | 'statusEmoji' | 'statusExpiresAt'>, now: number): { text: string; emoji: string } | null {
  if (!user.statusText && !user.statusEmoji) return null
  if (user.statusExpiresAt && now >= user.statusExpiresAt) return null
  return { text: user.statusText ?? '', emoji: user.statusEmoji ?? '' }
}
