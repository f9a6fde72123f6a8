import { useEffect, useLayoutEffect, useMemo, useRef } from 'react'
import type { FileInfo, Message, User } from '../api/types'
import type { ChatView, LoadOlderOptions, PendingMessage } from '../state/types'
import { MessageBody } from './MessageBody'
import { personName } from './names'

/** A message within this long after the previous one by the same author joins its group. */
const GROUP_WINDOW_MS = 5 * 60 * 1000

/** Within this many pixels of the bottom counts as "at the bottom" (follow new messages). */
const BOTTOM_SLACK_PX = 48

/** Older history starts loading this far before the top is actually reached. */
const PREFETCH_MARGIN_PX = 300

interface MessageListProps {
  chatName: string
  /** undefined until the store has opened the chat. */
  view: ChatView | undefined
  users: Record<string, User>
  me: User
  /** Called with { automatic: true } when the top of the list comes into view, with nothing
   * when the user asks. */
  onLoadOlder: (options?: LoadOlderOptions) => void
  onRetry: (clientId: string) => void
  onDiscard: (clientId: string) => void
}

type Item =
  | { kind: 'day'; key: string; label: string }
  | {
      kind: 'message'
      key: string
      authorId: string
      content: string
      attachment?: FileInfo
      createdAt: number
      /** Same author as the message just above, shortly after it: no name and time header. */
      continued: boolean
      pending?: PendingMessage
    }

/**
 * The conversation, oldest at the top. Mount one per chat (key). It opens at the bottom, follows
 * new messages while the reader is at the bottom (and always for their own), keeps the reader's
 * place when older history is inserted above, and asks for older history when the top comes
 * into view.
 */
export function MessageList({
  chatName,
  view,
  users,
  me,
  onLoadOlder,
  onRetry,
  onDiscard,
}: MessageListProps) {
  const items = useMemo(() => buildItems(view, me), [view, me])
  const usernames = useMemo(() => new Set(Object.values(users).map((u) => u.username)), [users])
  const scroller = useRef<HTMLDivElement>(null)
  const sentinel = useRef<HTMLButtonElement>(null)
  const atBottom = useRef(true)
  // The first and last item and the scroll geometry when last laid out or scrolled.
  const layout = useRef<{ first?: string; last?: string; height: number; top: number } | null>(null)

  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    const first = items[0]?.key
    const lastItem = items.at(-1)
    const last = lastItem?.key
    const before = layout.current
    if (before === null) {
      el.scrollTop = el.scrollHeight
    } else if (last !== before.last) {
      const mine = lastItem?.kind === 'message' && lastItem.authorId === me.id
      if (atBottom.current || mine) el.scrollTop = el.scrollHeight
    } else if (first !== before.first) {
      // Older messages went in above: keep the same message under the reader's eyes.
      el.scrollTop = before.top + (el.scrollHeight - before.height)
    }
    layout.current = { first, last, height: el.scrollHeight, top: el.scrollTop }
  }, [items, me.id])

  // The list gets shorter when the composer grows or the window shrinks; stay at the bottom.
  useEffect(() => {
    const el = scroller.current
    if (!el || typeof ResizeObserver === 'undefined') return
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight
    })
    observer.observe(el)
    return () => observer.disconnect()
  }, [])

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

  function scrolled() {
    const el = scroller.current
    if (!el) return
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX
    if (layout.current) {
      layout.current.top = el.scrollTop
      layout.current.height = el.scrollHeight
    }
  }

  return (
    <div
      ref={scroller}
      className="messages"
      role="log"
      aria-live="polite"
      aria-label={`Messages in ${chatName}`}
      // Focusable so the keyboard can scroll it.
      tabIndex={0}
      onScroll={scrolled}
    >
      <div className="history-edge">
        {hasMoreBefore ? (
          <button
            ref={sentinel}
            type="button"
            className="load-older"
            disabled={loading}
            onClick={() => onLoadOlder()}
          >
            {loading ? 'Loading older messages…' : 'Load older messages'}
          </button>
        ) : view && !view.loading ? (
          <p className="history-start">This is the very beginning of #{chatName}.</p>
        ) : (
          <p className="history-start">Loading messages…</p>
        )}
      </div>
      <ol className="message-items">
        {items.map((item) =>
          item.kind === 'day' ? (
            <li key={item.key} className="day-separator">
              <span>{item.label}</span>
            </li>
          ) : (
            <MessageItem
              key={item.key}
              item={item}
              author={personName(users[item.authorId])}
              meUsername={me.username}
              usernames={usernames}
              onRetry={onRetry}
              onDiscard={onDiscard}
            />
          ),
        )}
      </ol>
    </div>
  )
}

function MessageItem({
  item,
  author,
  meUsername,
  usernames,
  onRetry,
  onDiscard,
}: {
  item: Extract<Item, { kind: 'message' }>
  author: string
  meUsername: string
  usernames: ReadonlySet<string>
  onRetry: (clientId: string) => void
  onDiscard: (clientId: string) => void
}) {
  const { pending } = item
  const time = new Date(item.createdAt)
  return (
    <li
      className={[
        'message',
        item.continued ? 'continued' : '',
        pending ? `pending pending-${pending.state}` : '',
      ].join(' ')}
    >
      <div className="message-meta">
        <span className={item.continued ? 'visually-hidden' : 'message-author'} dir="auto">
          {author}
        </span>{' '}
        <time dateTime={time.toISOString()} title={time.toLocaleString()}>
          {time.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })}
        </time>
      </div>
      {item.attachment ? (
        <Attachment file={item.attachment} />
      ) : (
        <MessageBody content={item.content} meUsername={meUsername} usernames={usernames} />
      )}
      {pending && (
        <div className="send-state">
          <span>{sendStateText(pending)}</span>
          {pending.state === 'failed' && (
            <>
              <button type="button" onClick={() => onRetry(pending.clientId)}>
                Retry
              </button>
              <button type="button" onClick={() => onDiscard(pending.clientId)}>
                Discard
              </button>
            </>
          )}
        </div>
      )}
    </li>
  )
}

/** A file in a message: its thumbnail (images) or its name, size and text preview, linking to
 * the file. The server serves only images inline; everything else downloads. */
function Attachment({ file }: { file: FileInfo }) {
  const href = `/api/files/${encodeURIComponent(file.id)}`
  return (
    <figure className="attachment">
      {file.thumbnail && (
        <a href={href} target="_blank" rel="noopener" aria-label={`Open ${file.name}`}>
          <img
            src={`${href}/thumbnail`}
            alt={file.name}
            width={file.width && file.height ? Math.min(320, file.width) : undefined}
            loading="lazy"
          />
        </a>
      )}
      <figcaption>
        <a href={href} download={file.name}>
          <bdi>{file.name}</bdi>
        </a>{' '}
        <span className="attachment-size">{formatSize(file.size)}</span>
      </figcaption>
      {file.preview && <pre className="attachment-preview">{file.preview}</pre>}
    </figure>
  )
}

/** Bytes as people read them: 512 B, 2.4 KB, 13 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`
}

export function sendStateText(pending: PendingMessage): string {
  switch (pending.state) {
    case 'sending':
      return 'Sending…'
    case 'queued':
      return 'Queued — will send when back online'
    case 'relayed':
      return 'Queued — will send when the server is back'
    case 'failed':
      return `Not sent: ${pending.error ?? 'the server refused it'}`
  }
}

function buildItems(view: ChatView | undefined, me: User): Item[] {
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
    const thisDay = new Date(message.createdAt).toDateString()
    if (thisDay !== day) {
      day = thisDay
      items.push({ kind: 'day', key: `day:${key}`, label: dayLabel(message.createdAt) })
      previous = undefined
    }
    items.push({
      kind: 'message',
      key,
      authorId,
      content: message.content,
      attachment: 'attachment' in message ? message.attachment : undefined,
      createdAt: message.createdAt,
      continued:
        previous !== undefined &&
        previous.authorId === authorId &&
        message.createdAt - previous.createdAt < GROUP_WINDOW_MS,
      pending: 'state' in message ? message : undefined,
    })
    previous = { authorId, createdAt: message.createdAt }
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
