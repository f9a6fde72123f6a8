import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import type { Message, User } from '../api/types'
import type { ChatView, LoadOlderOptions, MessagesView, PendingMessage } from '../state/types'
import { MessageItem, type MessageItemData } from './MessageItem'
import { personName } from './names'
import { ProfilePopover } from './ProfileCard'

/** A message within this long after the previous one by the same author joins its group. */
const GROUP_WINDOW_MS = 5 * 60 * 1000

/** Within this many pixels of the bottom counts as "at the bottom" (follow new messages). */
const BOTTOM_SLACK_PX = 48

/** Older (and newer) history starts loading this far before the end is actually reached. */
const PREFETCH_MARGIN_PX = 300

/** Room left above the "New messages" divider when the list opens at it. */
const DIVIDER_MARGIN_PX = 24

/** How long a message opened from a link or a search result stays highlighted (ms). */
export const HIGHLIGHT_MS = 2_500

/** A message to bring into view, focus and highlight; seq tells one request from the next. */
export interface FocusRequest {
  messageId: string
  seq: number
}

interface MessageListProps {
  /** The chat's title (chatTitle: "#general", a DM's people). */
  title: string
  /** undefined until the store has opened the chat. */
  view: (MessagesView & Pick<ChatView, 'unreadFrom'>) | undefined
  users: Record<string, User>
  me: User
  /** Called with { automatic: true } when the top of the list comes into view, with nothing
   * when the user asks. */
  onLoadOlder: (options?: LoadOlderOptions) => void
  onRetry: (clientId: string) => void
  onDiscard: (clientId: string) => void
  /** As onLoadOlder, at the bottom of a view that ends before the newest message. */
  onLoadNewer?: (options?: LoadOlderOptions) => void
  /** Shows the newest messages (a view that ends before them); without it the list only
   * scrolls. */
  onJumpToLatest?: () => void
  /** The list's accessible name; default "Messages in {title}". */
  label?: string
  /** What the top of the history says; default "This is the very beginning of {title}." */
  beginning?: ReactNode
  /** Above the messages, inside the scrolling list (a thread's parent). */
  header?: ReactNode
  /** The list of a thread's replies. */
  inThread?: boolean
  focus?: FocusRequest | null
}

type Item =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'divider'; key: string }
  | ({ kind: 'message' } & MessageItemData)

/**
 * The conversation, oldest at the top. Mount one per chat (key). It opens at the bottom — or at
 * the "New messages" divider, or at a message asked for (focus) — follows new messages while the
 * reader is at the bottom (and always for their own), keeps the reader's place when older
 * history is inserted above, and asks for more history when an end of what is loaded comes into
 * view. While the newest message is not in view, "Jump to latest" takes the reader there.
 */
export function MessageList({
  title,
  view,
  users,
  me,
  onLoadOlder,
  onRetry,
  onDiscard,
  onLoadNewer,
  onJumpToLatest,
  label,
  beginning,
  header,
  inThread = false,
  focus = null,
}: MessageListProps) {
  const items = useMemo(() => buildItems(view, me), [view, me])
  // The author whose profile card is open, and the name button that opened it.
  const [profile, setProfile] = useState<{ userId: string; anchor: HTMLElement } | null>(null)
  const openProfile = useCallback((userId: string, anchor: HTMLElement) => setProfile({ userId, anchor }), [])
  const closeProfile = useCallback(() => setProfile(null), [])
  const profileUser = profile ? users[profile.userId] : undefined
  const usernames = useMemo(() => new Set(Object.values(users).map((u) => u.username)), [users])
  const scroller = useRef<HTMLDivElement>(null)
  const sentinel = useRef<HTMLButtonElement>(null)
  const bottomSentinel = useRef<HTMLButtonElement>(null)
  const atBottom = useRef(true)
  const [awayFromEnd, setAwayFromEnd] = useState(false)
  // The first and last item and the scroll geometry when last laid out or scrolled, and whether
  // the view then ended before the newest message.
  const layout = useRef<{ first?: string; last?: string; height: number; top: number; moreAfter: boolean } | null>(
    null,
  )
  const placedAtDivider = useRef(false)
  const focusedSeq = useRef<number | null>(null)
  const wantEnd = useRef(false)
  const hasMoreAfter = view?.hasMoreAfter ?? false

  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    const first = items[0]?.key
    const lastItem = items.at(-1)
    const last = lastItem?.key
    const before = layout.current
    const target = focus && focusedSeq.current !== focus.seq ? findMessage(el, focus.messageId) : null
    const divider = el.querySelector<HTMLElement>('.unread-divider')
    if (target && focus) {
      focusedSeq.current = focus.seq
      placedAtDivider.current = true // the reader asked for this message, not for the divider
      target.scrollIntoView?.({ block: 'center' })
      target.focus({ preventScroll: true })
      highlight(target)
    } else if (divider && !placedAtDivider.current) {
      placedAtDivider.current = true
      el.scrollTop = Math.max(0, divider.offsetTop - DIVIDER_MARGIN_PX)
    } else if (wantEnd.current && !hasMoreAfter) {
      wantEnd.current = false
      el.scrollTop = el.scrollHeight
    } else if (before === null) {
      el.scrollTop = el.scrollHeight
    } else if (last !== before.last) {
      // A newer page came in below (the view ended before the newest message): stay put.
      const mine = lastItem?.kind === 'message' && lastItem.authorId === me.id
      if (!before.moreAfter && (atBottom.current || mine)) el.scrollTop = el.scrollHeight
    } else if (first !== before.first) {
      // Older messages went in above: keep the same message under the reader's eyes.
      el.scrollTop = before.top + (el.scrollHeight - before.height)
    }
    layout.current = { first, last, height: el.scrollHeight, top: el.scrollTop, moreAfter: hasMoreAfter }
  }, [items, me.id, focus, hasMoreAfter])

  // The list gets shorter when the composer grows or the window shrinks; stay at the bottom.
  useEffect(() => {
    const el = scroller.current
    if (!el || typeof ResizeObserver === 'undefined') return
    const observer = new ResizeObserver(() => {
      if (atBottom.current && !hasMoreAfter) el.scrollTop = el.scrollHeight
    })
    observer.observe(el)
    return () => observer.disconnect()
  }, [hasMoreAfter])

  const hasMoreBefore = view?.hasMoreBefore ?? false
  const loading = view?.loading ?? true

  useEffect(() => {
    const el = sentinel.current
    const root = scroller.current
    if (!el || !root || loading || typeof IntersectionObserver === 'undefined') return
    // A fresh observer reports the current state at once, so a first page too short to fill
    // the list keeps loading until it does or history runs out.
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) onLoadOlder({ automatic: true })
      },
      { root, rootMargin: `${PREFETCH_MARGIN_PX}px 0px 0px 0px` },
    )
    observer.observe(el)
    return () => observer.disconnect()
  }, [hasMoreBefore, loading, onLoadOlder])

  useEffect(() => {
    const el = bottomSentinel.current
    const root = scroller.current
    if (!el || !root || loading || !onLoadNewer || typeof IntersectionObserver === 'undefined') return
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) onLoadNewer({ automatic: true })
      },
      { root, rootMargin: `0px 0px ${PREFETCH_MARGIN_PX}px 0px` },
    )
    observer.observe(el)
    return () => observer.disconnect()
  }, [hasMoreAfter, loading, onLoadNewer])

  function scrolled() {
    const el = scroller.current
    if (!el) return
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX
    setAwayFromEnd(!atBottom.current)
    if (layout.current) {
      layout.current.top = el.scrollTop
      layout.current.height = el.scrollHeight
    }
  }

  function jumpToLatest() {
    const el = scroller.current
    // The button goes away: the list itself keeps focus.
    el?.focus({ preventScroll: true })
    if (hasMoreAfter && onJumpToLatest) {
      wantEnd.current = true
      onJumpToLatest()
    } else if (el) {
      el.scrollTop = el.scrollHeight
    }
  }

  const showJump = view !== undefined && !view.loading && (hasMoreAfter || awayFromEnd) && items.length > 0

  return (
    <div className="messages-wrap">
      <div
        ref={scroller}
        className="messages"
        role="log"
        aria-live="polite"
        aria-label={label ?? `Messages in ${title}`}
        // Focusable so the keyboard can scroll it.
        tabIndex={0}
        onScroll={scrolled}
      >
        {header}
        <div className="history-edge">
          {hasMoreBefore ? (
            <button
              ref={sentinel}
              type="button"
              className="load-older"
              disabled={loading}
              onClick={() => onLoadOlder()}
            >
              {loading ? (inThread ? 'Loading older replies…' : 'Loading older messages…') : inThread ? 'Load older replies' : 'Load older messages'}
            </button>
          ) : view && !view.loading ? (
            (beginning ?? <p className="history-start">This is the very beginning of <bdi>{title}</bdi>.</p>)
          ) : (
            <p className="history-start">{inThread ? 'Loading replies…' : 'Loading messages…'}</p>
          )}
        </div>
        <ol className="message-items">
          {items.map((item) =>
            item.kind === 'day' ? (
              <li key={item.key} className="day-separator">
                <span>{item.label}</span>
              </li>
            ) : item.kind === 'divider' ? (
              <li key={item.key} className="unread-divider">
                <span>New messages</span>
              </li>
            ) : (
              <MessageItem
                key={item.key}
                item={item}
                author={personName(users[item.authorId])}
                authorUser={users[item.authorId]}
                onAuthorClick={users[item.authorId] ? openProfile : undefined}
                inThread={inThread}
                meUsername={me.username}
                usernames={usernames}
                onRetry={onRetry}
                onDiscard={onDiscard}
              />
            ),
          )}
        </ol>
        {profile && profileUser && (
          <ProfilePopover user={profileUser} anchor={profile.anchor} onClose={closeProfile} />
        )}
        {hasMoreAfter && onLoadNewer && (
          <div className="history-edge">
            <button
              ref={bottomSentinel}
              type="button"
              className="load-older"
              disabled={loading}
              onClick={() => onLoadNewer()}
            >
              {loading ? 'Loading newer messages…' : 'Load newer messages'}
            </button>
          </div>
        )}
      </div>
      {showJump && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          Jump to latest <span aria-hidden="true">↓</span>
        </button>
      )}
    </div>
  )
}

function findMessage(root: HTMLElement, messageId: string): HTMLElement | null {
  for (const el of root.querySelectorAll<HTMLElement>('[data-message-id]')) {
    if (el.dataset.messageId === messageId) return el
  }
  return null
}

/** Marks the element highlighted for HIGHLIGHT_MS (CSS animates it, or not with reduced
 * motion). An attribute React does not manage, so re-renders leave it alone. */
function highlight(el: HTMLElement): void {
  el.setAttribute('data-highlighted', '')
  setTimeout(() => el.removeAttribute('data-highlighted'), HIGHLIGHT_MS)
}

function buildItems(view: (MessagesView & Pick<ChatView, 'unreadFrom'>) | undefined, me: User): Item[] {
  if (!view) return []
  const entries: { message: Message | PendingMessage; authorId: string; key: string }[] = [
    ...view.messages.map((message) => ({
      message,
      authorId: message.authorId,
      // A sent message keeps its pending row's key, so confirming it does not redraw the row.
      key: message.clientId ? `${message.authorId}:${message.clientId}` : message.id,
    })),
    ...view.pending.map((message) => ({
      message,
      authorId: me.id,
      key: `${me.id}:${message.clientId}`,
    })),
  ]
  const items: Item[] = []
  let previous: { authorId: string; createdAt: number } | undefined
  let day = ''
  for (const { message, authorId, key } of entries) {
    const confirmed = 'state' in message ? undefined : message
    // The day comes first, then the divider: "Today", then "New messages" right above the first.
    const thisDay = new Date(message.createdAt).toDateString()
    if (thisDay !== day) {
      day = thisDay
      items.push({ kind: 'day', key: `day:${key}`, label: dayLabel(message.createdAt) })
      previous = undefined
    }
    if (confirmed && confirmed.id === view.unreadFrom) {
      items.push({ kind: 'divider', key: 'unread-divider' })
      previous = undefined
    }
    items.push({
      kind: 'message',
      key,
      authorId,
      content: message.content,
      attachment: confirmed?.attachment,
      createdAt: message.createdAt,
      continued:
        previous !== undefined &&
        previous.authorId === authorId &&
        message.createdAt - previous.createdAt < GROUP_WINDOW_MS,
      message: confirmed,
      pending: 'state' in message ? message : undefined,
    })
    // A tombstone ends a group: the next message shows its author again.
    previous = confirmed?.deleted ? undefined : { authorId, createdAt: message.createdAt }
  }
  return items
}

function dayLabel(ms: number): string {
  const date = new Date(ms)
  const today = new Date()
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1)
  if (date.toDateString() === today.toDateString()) return 'Today'
  if (date.toDateString() === yesterday.toDateString()) return 'Yesterday'
  return date.toLocaleDateString([], {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    year: date.getFullYear() === today.getFullYear() ? undefined : 'numeric',
  })
}
