// A person's profile card: their big avatar, name, @username, status line, presence and local
// time. Where it opens (a popover from a name in the member list or a message) is the caller's.
import { useEffect, useId, useLayoutEffect, useRef, useState, type CSSProperties, type ReactNode } from 'react'
import type { User } from '../api/types'
import { Avatar, PRESENCE_WORDS, PresenceMarker, presenceOf } from './Avatar'
import { personName } from './names'
import { useStatusLine } from './useStatusLine'

export interface ProfileCardProps {
  user: User & { online?: boolean }
  /** Buttons under the card ("Message" …). */
  actions?: ReactNode
  /** An id for the name's heading, for the popover's aria-labelledby. */
  headingId?: string
}

export function ProfileCard({ user, actions, headingId }: ProfileCardProps) {
  const status = useStatusLine(user)
  const presence = presenceOf(user)
  const name = personName(user)
  return (
    <div className="profile-card">
      <Avatar user={user} size={96} />
      <div className="profile-card-text">
        <h2 className="profile-card-name" id={headingId}>
          <bdi>{name}</bdi>
        </h2>
        <p className="profile-card-username">
          <bdi>@{user.username}</bdi>
          {user.kind === 'bot' && <span className="profile-card-tag">Bot</span>}
          {user.role === 'admin' && <span className="profile-card-tag">Admin</span>}
        </p>
        <p className="profile-card-presence">
          <PresenceMarker status={presence} />
          <span>{capitalize(PRESENCE_WORDS[presence])}</span>
        </p>
        {status && (
          <p className="profile-card-status">
            {status.emoji && <span aria-hidden="true">{status.emoji} </span>}
            {status.emoji && !status.text && <span className="visually-hidden">Status: {status.emoji}</span>}
            {status.text && <bdi>{status.text}</bdi>}
            {status.text && user.statusExpiresAt ? (
              <span className="profile-card-until"> · until {untilText(user.statusExpiresAt)}</span>
            ) : null}
          </p>
        )}
        {actions && <div className="profile-card-actions">{actions}</div>}
      </div>
    </div>
  )
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** "3:30 PM" today, else a short date and time. */
export function untilText(at: number, now = Date.now()): string {
  const when = new Date(at)
  const today = new Date(now)
  const sameDay = when.toDateString() === today.toDateString()
  return sameDay
    ? when.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })
    : when.toLocaleString([], { weekday: 'short', hour: 'numeric', minute: '2-digit' })
}

export interface ProfilePopoverProps extends Omit<ProfileCardProps, 'headingId'> {
  /** What opened it: the popover sits below it, and focus goes back to it on close. */
  anchor: HTMLElement | null
  onClose: () => void
}

/**
 * The profile card as a non-modal popover: focus moves into it; Escape, a click outside or the
 * Close button close it and focus returns to the anchor. It stays inside the window (390 px
 * included).
 */
export function ProfilePopover({ anchor, onClose, ...card }: ProfilePopoverProps) {
  const ref = useRef<HTMLDivElement>(null)
  const headingId = useId()
  const [place] = useState(() => placeBelow(anchor))

  useLayoutEffect(() => {
    ref.current?.focus()
    return () => anchor?.focus()
  }, [anchor])

  useEffect(() => {
    function outside(event: MouseEvent) {
      const target = event.target
      if (target instanceof Node && !ref.current?.contains(target) && !anchor?.contains(target)) onClose()
    }
    document.addEventListener('mousedown', outside)
    return () => document.removeEventListener('mousedown', outside)
  }, [anchor, onClose])

  return (
    <div
      ref={ref}
      className="profile-popover"
      role="dialog"
      aria-labelledby={headingId}
      tabIndex={-1}
      style={place}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault()
          event.stopPropagation()
          onClose()
        }
      }}
    >
      <ProfileCard {...card} headingId={headingId} />
      <button type="button" className="profile-popover-close" aria-label="Close profile" onClick={onClose}>
        ×
      </button>
    </div>
  )
}

const POPOVER_WIDTH = 300

function placeBelow(anchor: HTMLElement | null): CSSProperties {
  if (!anchor || typeof window === 'undefined') return {}
  const box = anchor.getBoundingClientRect()
  const width = Math.min(POPOVER_WIDTH, window.innerWidth - 16)
  const left = Math.max(8, Math.min(box.left, window.innerWidth - width - 8))
  // Below the anchor, or above it when the lower half of the window has no room.
  if (box.bottom > window.innerHeight * 0.6) {
    return { left, width, bottom: Math.max(8, window.innerHeight - box.top + 4) }
  }
  return { left, width, top: box.bottom + 4 }
}
