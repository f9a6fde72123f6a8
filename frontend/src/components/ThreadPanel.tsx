import { useCallback, useEffect, useId, useState, type KeyboardEvent } from 'react'
import { errorMessage } from '../api/client'
import type { Message } from '../api/types'
import { useQuietPeople } from '../hooks/useQuiet'
import type { ChatStoreApi, LoadOlderOptions, Snapshot } from '../state/types'
import { Composer } from './Composer'
import { focused } from './messageActions'
import { MessageItem } from './MessageItem'
import { MessageList, type FocusRequest } from './MessageList'
import { personName } from './names'
import { TypingLine } from './TypingLine'

interface ThreadPanelProps {
  store: ChatStoreApi
  snapshot: Snapshot
  chatId: string
  /** The chat's title (chatTitle: "#general", a DM's people). */
  title: string
  parentId: string
  onClose: () => void
  /** The notifications of this thread's unread replies: marked read while it is open. */
  unreadReplies: readonly string[]
  markRepliesRead: (ids: string[]) => void
  focus: FocusRequest | null
  /** ↑ in the empty composer: edit the user's last reply here. */
  onEditLast: (messages: Message[], returnFocus: HTMLElement | null) => boolean
}

/**
 * A thread beside its chat (the whole window on narrow screens): the parent, its replies (older
 * ones page in on scrolling up), who is typing there, and a composer of its own that replies to
 * the thread, optionally into the chat's history too. Opening it loads it; its unread replies
 * are marked read while it is open.
 */
export function ThreadPanel({
  store,
  snapshot,
  chatId,
  title,
  parentId,
  onClose,
  unreadReplies,
  markRepliesRead,
  focus,
  onEditLast,
}: ThreadPanelProps) {
  const headingId = useId()
  const [error, setError] = useState<string | null>(null)
  const [alsoToChat, setAlsoToChat] = useState(false)
  const [mentioned, setMentioned] = useState<string[]>([])
  const thread = snapshot.threads[parentId]
  const chat = snapshot.chats.find((c) => c.id === chatId)
  const quiet = useQuietPeople(store, chat, snapshot.users, mentioned)

  useEffect(() => {
    let current = true
    store.openThread(chatId, parentId).catch((err: unknown) => {
      if (current) setError(errorMessage(err))
    })
    return () => {
      current = false
    }
  }, [store, chatId, parentId])

  useEffect(() => {
    if (unreadReplies.length > 0) markRepliesRead([...unreadReplies])
  }, [unreadReplies, markRepliesRead])

  const loadOlder = useCallback(
    (options?: LoadOlderOptions) => {
      store.loadOlderReplies(parentId, options).catch((err: unknown) => setError(errorMessage(err)))
    },
    [store, parentId],
  )
  const retry = useCallback((clientId: string) => store.retry(clientId), [store])
  const discard = useCallback((clientId: string) => store.discard(clientId), [store])

  const parent = thread?.parent ?? snapshot.views[chatId]?.messages.find((m) => m.id === parentId)
  const typers = (snapshot.threadTyping[parentId] ?? []).map((id) => personName(snapshot.users[id]))
  const count = parent?.replyCount ?? thread?.messages.filter((m) => !m.deleted).length ?? 0

  function keyDown(event: KeyboardEvent<HTMLElement>) {
    if (event.key === 'Escape' && !event.defaultPrevented) {
      event.preventDefault()
      onClose()
    }
  }

  return (
    <aside className="thread-panel" aria-labelledby={headingId} onKeyDown={keyDown}>
      <div className="thread-header">
        <button type="button" className="secondary small thread-close" onClick={onClose} aria-label="Close thread">
          <span aria-hidden="true" className="thread-back">
            ‹ Back
          </span>
          <span aria-hidden="true" className="thread-x">
            ✕
          </span>
        </button>
        <h2 id={headingId}>
          Thread <span className="muted">in <bdi>{title}</bdi></span>
        </h2>
      </div>
      {(error ?? thread?.error) && (
        <p className="banner error" role="alert">
          {error ?? thread?.error}
        </p>
      )}
      <MessageList
        title={title}
        label="Thread replies"
        view={thread}
        users={snapshot.users}
        me={snapshot.me}
        onLoadOlder={loadOlder}
        onRetry={retry}
        onDiscard={discard}
        inThread
        focus={focus}
        beginning={
          <p className="history-start">
            {count === 0 ? 'No replies yet.' : count === 1 ? '1 reply' : `${count} replies`}
          </p>
        }
        header={
          parent ? (
            <div className="thread-parent">
              <MessageItem
                as="div"
                inThread
                item={{
                  key: parent.id,
                  authorId: parent.authorId,
                  content: parent.content,
                  attachment: parent.attachment,
                  createdAt: parent.createdAt,
                  continued: false,
                  message: parent,
                }}
                author={personName(snapshot.users[parent.authorId])}
                onRetry={retry}
                onDiscard={discard}
              />
            </div>
          ) : null
        }
      />
      <TypingLine names={typers} />
      <div className="thread-composer" role="group" aria-label="Reply in thread">
        <Composer
          title={title}
          label="Reply"
          placeholder="Reply in thread…"
          onSend={(content, options) =>
            options
              ? store.sendReply(chatId, parentId, content, alsoToChat, options)
              : store.sendReply(chatId, parentId, content, alsoToChat)
          }
          onTyped={() => store.typed(chatId, parentId)}
          onEditLast={() => onEditLast(thread?.messages ?? [], focused())}
          members={(chat?.memberIds ?? []).flatMap((id) => snapshot.users[id] ?? [])}
          quiet={quiet}
          onMentionsChange={setMentioned}
        />
        <label className="also-to-chat">
          <input type="checkbox" checked={alsoToChat} onChange={(event) => setAlsoToChat(event.target.checked)} />
          <span>
            Also send to <bdi>{title}</bdi>
          </span>
        </label>
      </div>
    </aside>
  )
}
