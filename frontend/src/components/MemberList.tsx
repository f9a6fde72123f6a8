import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import type { Member } from '../state/types'
import { Avatar, PRESENCE_WORDS, PresenceMarker, presenceOf } from './Avatar'
import { personName } from './names'
import { useStatusLine } from './useStatusLine'

interface MemberListProps {
  members: readonly Member[]
  /** The user: their own card offers no Message. */
  meId?: string
  /** Message from a person's card: a DM with them. Without it, members are plain names. */
  onMessage?: (userId: string) => void
}

/** A chat's members, online first, each with a presence mark (a shape, and words for screen
 * readers). With onMessage a click on a person opens their card. */
export function MemberList({ members, meId, onMessage }: MemberListProps) {
  const [openId, setOpenId] = useState<string | null>(null)
  const sorted = [...members].sort(
    (a, b) => Number(b.online) - Number(a.online) || personName(a).localeCompare(personName(b)),
  )
  return (
    <ul className="members" aria-label="Members">
      {sorted.map((member) => (
        <MemberItem key={member.id} member={member} meId={meId} onMessage={onMessage} open={openId === member.id} onOpenChange={(open) => setOpenId(open ? member.id : null)} />
      ))}
    </ul>
  )
}

/** One member: avatar with presence marker, name, status emoji; with onMessage, a button that
 * opens their card. The accessible name reads "bob, online". */
function MemberItem({
  member,
  meId,
  onMessage,
  open,
  onOpenChange,
}: {
  member: Member
  meId: string | undefined
  onMessage: ((userId: string) => void) | undefined
  open: boolean
  onOpenChange: (open: boolean) => void
}) {
  const presence = presenceOf(member)
  const status = useStatusLine(member)
  const content = (
    <>
      <span className="member-avatar">
        <Avatar user={member} size={20} />
        <PresenceMarker status={presence} />
      </span>
      <bdi>{personName(member)}</bdi>
      <span className="visually-hidden">, {PRESENCE_WORDS[presence]}</span>
      {status && (
        <span className="member-status" title={[status.emoji, status.text].filter(Boolean).join(' ')}>
          {status.emoji && <span aria-hidden="true">{status.emoji}</span>}
          {status.text && <span className="visually-hidden">, {status.text}</span>}
        </span>
      )}
    </>
  )
  return (
    <li className="member">
      {onMessage ? (
        <ProfileCard
          member={member}
          open={open}
          onOpenChange={onOpenChange}
          onMessage={member.id === meId ? undefined : () => onMessage(member.id)}
        >
          {content}
        </ProfileCard>
      ) : (
        content
      )}
    </li>
  )
}

/** A person's name as a button that opens a small card about them (a non-modal popover): name,
 * username, presence, Message. Escape or a click elsewhere closes it; focus returns to the name.
 * Kept small: the full profile card grows from here. */
function ProfileCard({
  member,
  open,
  onOpenChange,
  onMessage,
  children,
}: {
  member: Member
  open: boolean
  onOpenChange: (open: boolean) => void
  onMessage: (() => void) | undefined
  children: ReactNode
}) {
  const buttonRef = useRef<HTMLButtonElement>(null)
  const cardRef = useRef<HTMLDivElement>(null)
  const cardId = useId()
  // Fixed to the viewport: the member list scrolls, and would clip a card inside it.
  const [place, setPlace] = useState<{ top: number; left: number } | null>(null)

  useEffect(() => {
    if (!open) return
    cardRef.current?.querySelector<HTMLElement>('button')?.focus()
    function away(event: PointerEvent) {
      const target = event.target as Node
      if (!cardRef.current?.contains(target) && !buttonRef.current?.contains(target)) onOpenChange(false)
    }
    document.addEventListener('pointerdown', away)
    return () => document.removeEventListener('pointerdown', away)
  }, [open, onOpenChange])

  function close() {
    onOpenChange(false)
    buttonRef.current?.focus()
  }

  const name = personName(member)
  const presence = presenceOf(member)
  return (
    <span className="profile-anchor">
      <button
        ref={buttonRef}
        type="button"
        className="member-button"
        aria-expanded={open}
        aria-controls={open ? cardId : undefined}
        aria-haspopup="dialog"
        onClick={(event) => {
          const rect = event.currentTarget.getBoundingClientRect()
          const width = Math.min(240, window.innerWidth - 16)
          setPlace({ top: rect.bottom + 4, left: Math.max(8, Math.min(rect.left, window.innerWidth - width - 8)) })
          onOpenChange(!open)
        }}
      >
        {children}
      </button>
      {open && (
        <div
          ref={cardRef}
          id={cardId}
          className="profile-card"
          style={place ? { top: place.top, left: place.left } : undefined}
          role="dialog"
          aria-label={name}
          onKeyDown={(event) => {
            if (event.key === 'Escape') {
              event.stopPropagation()
              close()
            }
          }}
        >
          <p>
            <strong>
              <bdi>{name}</bdi>
            </strong>
          </p>
          <p className="hint">
            @{member.username} · {PRESENCE_WORDS[presence]}
          </p>
          {onMessage ? (
            <button
              type="button"
              className="small"
              onClick={() => {
                onOpenChange(false)
                onMessage()
              }}
            >
              Message
            </button>
          ) : (
            <button type="button" className="secondary small" onClick={close}>
              Close
            </button>
          )}
        </div>
      )}
    </span>
  )
}
