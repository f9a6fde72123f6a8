// One message of a list (a chat's history or a thread): author and time, the body (or the
// tombstone of a deleted one, or the inline editor), its reactions, its thread's summary, and
// its actions menu.
import { memo, useState, type FormEvent, type KeyboardEvent } from 'react'
import { errorMessage } from '../api/client'
import type { FileInfo, Message, User } from '../api/types'
import { relativeTime } from '../notifications/kinds'
import type { PendingMessage } from '../state/types'
import { Avatar } from './Avatar'
import { EmojiPicker } from './EmojiPicker'
import {
  mayDelete,
  mayEdit,
  QUICK_REACTIONS,
  threadOnly,
  useMessageActions,
  type MessageActions,
} from './messageActions'
import { MessageBody } from './MessageBody'
import { MessageMenu, type MenuEntry } from './MessageMenu'
import { Reactions } from './Reactions'

/** The server's limit on a message (backend.MaxContentLen), in characters. */
const MAX_CONTENT_LENGTH = 8000

export interface MessageItemData {
  key: string
  authorId: string
  content: string
  attachment?: FileInfo
  createdAt: number
  /** Same author as the message just above, shortly after it: no name and time header. */
  continued: boolean
  /** The confirmed message (none while pending). */
  message?: Message
  pending?: PendingMessage
}

interface MessageItemProps {
  item: MessageItemData
  author: string
  /** In a thread's list: no thread summary, no "Reply in thread". */
  inThread?: boolean
  onRetry: (clientId: string) => void
  onDiscard: (clientId: string) => void
  /** Rendered as an element other than a list item (a thread's parent, above its replies). */
  as?: 'li' | 'div'
  /** Who reads (their mentions are highlighted) and which usernames exist; default: the
   * message actions' (MessageActionsContext). */
  meUsername?: string
  usernames?: ReadonlySet<string>
  /** The author's record: their avatar beside the name. */
  authorUser?: User
  /** Opens the author's profile card (the name becomes a button). */
  onAuthorClick?: (userId: string, anchor: HTMLElement) => void
}

/**
 * One message row. Memoised: a list rebuilds its item records on every change (a new message,
 * a typer), and a row whose record holds the same values (message and pending are immutable
 * snapshot parts) and the same props is not rendered again. Context (the message actions) still
 * re-renders every row when it changes.
 */
export const MessageItem = memo(MessageItemRow, (before, after) => {
  for (const key of Object.keys({ ...before, ...after }) as (keyof MessageItemProps)[]) {
    if (key === 'item') continue
    if (!Object.is(before[key], after[key])) return false
  }
  return sameItem(before.item, after.item)
})

function sameItem(a: MessageItemData, b: MessageItemData): boolean {
  if (a === b) return true
  const keys = Object.keys({ ...a, ...b }) as (keyof MessageItemData)[]
  return keys.every((key) => Object.is(a[key], b[key]))
}

function MessageItemRow({
  item,
  author,
  inThread = false,
  onRetry,
  onDiscard,
  as = 'li',
  authorUser,
  onAuthorClick,
  ...names
}: MessageItemProps) {
  const actions = useMessageActions()
  const meUsername = names.meUsername ?? actions?.me.username
  const usernames = names.usernames ?? actions?.usernames
  // The emoji picker is open, and where focus goes back when it closes.
  const [picker, setPicker] = useState<{ returnFocus: HTMLElement | null } | null>(null)
  const { pending, message } = item
  const time = new Date(item.createdAt)
  const deleted = message?.deleted === true
  const editing = actions !== null && message !== undefined && actions.editingId === message.id && !deleted
  const Tag = as

  function openPicker(returnFocus: HTMLElement | null) {
    setPicker({ returnFocus })
  }
  function closePicker() {
    picker?.returnFocus?.focus()
    setPicker(null)
  }

  return (
    <Tag
      className={[
        'message',
        item.continued ? 'continued' : '',
        pending ? `pending pending-${pending.state}` : '',
        deleted ? 'deleted' : '',
        editing ? 'editing' : '',
      ].join(' ')}
      data-message-id={message?.id}
      // Focused when a link or search result opens the chat at this message.
      tabIndex={message ? -1 : undefined}
    >
      <div className="message-meta">
        {authorUser && !item.continued && <Avatar user={authorUser} size={20} />}
        {onAuthorClick && message && !item.continued ? (
          <button
            type="button"
            className="message-author author-button"
            dir="auto"
            aria-haspopup="dialog"
            onClick={(e) => onAuthorClick(item.authorId, e.currentTarget)}
          >
            {author}
          </button>
        ) : (
          <span className={item.continued ? 'visually-hidden' : 'message-author'} dir="auto">
            {author}
          </span>
        )}{' '}
        <time dateTime={time.toISOString()} title={time.toLocaleString()}>
          {time.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })}
        </time>
        {message?.editedAt !== undefined && !deleted && (
          <span className="edited" title={`Edited ${new Date(message.editedAt).toLocaleString()}`}>
            (edited)
          </span>
        )}
        {message?.pinned && !deleted && <span className="pinned-mark">Pinned</span>}
      </div>
      {deleted ? (
        <p className="tombstone">This message was deleted.</p>
      ) : editing && actions && message ? (
        <MessageEditor
          initial={message.content}
          onSave={(content) => actions.saveEdit(message, content)}
          onDone={actions.endEdit}
        />
      ) : item.attachment ? (
        <Attachment file={item.attachment} />
      ) : (
        <MessageBody content={item.content} meUsername={meUsername} usernames={usernames} />
      )}
      {actions && message && !deleted && message.reactions && message.reactions.length > 0 && (
        <Reactions
          reactions={message.reactions}
          meId={actions.me.id}
          nameOf={actions.nameOf}
          onToggle={(emoji, on) => actions.react(message, emoji, on)}
          onAdd={() => openPicker(document.activeElement instanceof HTMLElement ? document.activeElement : null)}
        />
      )}
      {picker && actions && message && (
        <div className="emoji-popover">
          <EmojiPicker
            label={`React to the message from ${author}`}
            onPick={(emoji) => {
              closePicker()
              actions.react(message, emoji, true)
            }}
            onClose={closePicker}
          />
        </div>
      )}
      {actions && message && !inThread && <ThreadLink message={message} actions={actions} />}
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
      {actions && message && !deleted && (
        <MessageMenu
          label={`More actions for message from ${author}`}
          entries={menuEntries(message, actions, inThread, openPicker)}
        />
      )}
    </Tag>
  )
}

function menuEntries(
  message: Message,
  actions: MessageActions,
  inThread: boolean,
  openPicker: (returnFocus: HTMLElement | null) => void,
): MenuEntry[] {
  const mine = (emoji: string) =>
    message.reactions?.some((r) => r.emoji === emoji && r.userIds.includes(actions.me.id)) ?? false
  const entries: MenuEntry[] = QUICK_REACTIONS.map((emoji) => ({
    key: `react-${emoji}`,
    label: emoji,
    ariaLabel: `React with ${emoji}`,
    checked: mine(emoji),
    quick: true,
    onSelect: () => actions.react(message, emoji, !mine(emoji)),
  }))
  entries.push({ key: 'react', label: 'Add reaction…', onSelect: (button) => openPicker(button) })
  if (!inThread) {
    const parentId = message.parentId ?? message.id
    entries.push({ key: 'reply', label: 'Reply in thread', onSelect: () => actions.openThread(parentId) })
  }
  if (mayEdit(message, actions.me)) {
    entries.push({ key: 'edit', label: 'Edit', onSelect: (button) => actions.startEdit(message.id, button) })
  }
  entries.push({
    key: 'pin',
    label: message.pinned ? 'Unpin' : 'Pin to chat',
    onSelect: () => actions.pin(message, !message.pinned),
  })
  entries.push({ key: 'link', label: 'Copy link', onSelect: () => actions.copyLink(message) })
  if (mayDelete(message, actions.me)) {
    entries.push({ key: 'delete', label: 'Delete…', danger: true, onSelect: () => actions.requestDelete(message) })
  }
  return entries
}

/** Under a top-level message with replies: "3 replies · last reply 5 min ago", opening the
 * thread (also under a deleted one). Under a reply also sent to the chat: a way to its thread. */
function ThreadLink({ message, actions }: { message: Message; actions: MessageActions }) {
  if (message.parentId !== undefined) {
    if (threadOnly(message)) return null
    const parentId = message.parentId
    return (
      <button type="button" className="thread-link" onClick={() => actions.openThread(parentId)}>
        Replied in a thread · View thread
      </button>
    )
  }
  const count = message.replyCount ?? 0
  if (count === 0) return null
  const unread = actions.unreadReplies[message.id]?.length ?? 0
  const last = message.lastReplyAt === undefined ? '' : ` · last reply ${relativeTime(message.lastReplyAt, actions.now)}`
  return (
    <button type="button" className="thread-link" onClick={() => actions.openThread(message.id)}>
      {count === 1 ? '1 reply' : `${count} replies`}
      {last}
      {unread > 0 && ' · '}
      {unread > 0 && <span className="thread-unread">{unread} new</span>}
    </button>
  )
}

/** The inline editor: Enter saves, Shift+Enter starts a new line, Escape cancels. */
function MessageEditor({
  initial,
  onSave,
  onDone,
}: {
  initial: string
  onSave: (content: string) => Promise<void>
  onDone: () => void
}) {
  const [text, setText] = useState(initial)
  const [saving, setSaving] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function save() {
    const content = text.trimEnd()
    if (content === initial) {
      onDone()
      return
    }
    if (content.trim() === '') {
      setError('A message cannot be empty: delete it instead.')
      return
    }
    setSaving(true)
    setError(null)
    try {
      await onSave(content)
      onDone()
    } catch (err) {
      setError(errorMessage(err))
      setSaving(false)
    }
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    const composing = event.nativeEvent.isComposing || event.nativeEvent.keyCode === 229
    if (event.key === 'Enter' && !event.shiftKey && !composing) {
      event.preventDefault()
      void save()
    } else if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      onDone()
    }
  }

  return (
    <form
      className="message-editor"
      onSubmit={(event: FormEvent) => {
        event.preventDefault()
        void save()
      }}
    >
      <textarea
        aria-label="Edit message"
        // The editor opens because the user asked for it: the cursor goes there.
        autoFocus
        onFocus={(event) => {
          const end = event.target.value.length
          event.target.setSelectionRange(end, end)
        }}
        rows={Math.min(8, Math.max(2, text.split('\n').length))}
        maxLength={MAX_CONTENT_LENGTH}
        value={text}
        disabled={saving}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={keyDown}
      />
      <div className="editor-actions">
        <span className="hint">Enter to save · Shift+Enter for a new line · Esc to cancel</span>
        <button type="button" className="secondary small" onClick={onDone} disabled={saving}>
          Cancel
        </button>
        <button type="submit" className="small" disabled={saving}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
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
