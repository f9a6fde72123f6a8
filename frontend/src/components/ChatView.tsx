import {
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type DragEvent,
} from 'react'
import { errorMessage } from '../api/client'
import type { Message } from '../api/types'
import type { CenterSnapshot } from '../notifications/NotificationCenterStore'
import { useExternalStore, type ExternalStore } from '../notifications/useExternalStore'
import { useQuietPeople } from '../hooks/useQuiet'
import { chatPath, homePath, messagePath, navigate } from '../router'
import type { ChatStoreApi, LoadOlderOptions, Snapshot } from '../state/types'
import type { EventStream } from '../stream/types'
import { AddMemberDialog } from './AddMemberDialog'
import { chatLabel, chatTitle, dmPeople, mayManage, presenceOf } from './chatNames'
import { ChatSettingsDialog } from './ChatSettingsDialog'
import { copyText } from './clipboard'
import { Composer } from './Composer'
import { Link } from './Link'
import { focused, mayEdit, MessageActionsContext, threadOnly, type MessageActions } from './messageActions'
import { MemberList } from './MemberList'
import { MessageList, type FocusRequest } from './MessageList'
import { Modal } from './Modal'
import { personName } from './names'
import { PinnedButton } from './PinnedMessages'
import { ChatMark } from './Sidebar'
import { ThreadPanel } from './ThreadPanel'
import { TypingLine } from './TypingLine'
import { UploadList } from './UploadButton'
import { useUploads } from './uploads'

/** The notification center's part the chat uses: unread thread replies, and marking them read. */
export type ThreadNotifications = ExternalStore<Pick<CenterSnapshot, 'unreadReplies'>> & {
  markRead(ids: string[]): Promise<void>
}

interface ChatViewProps {
  store: ChatStoreApi
  snapshot: Snapshot
  chatId: string
  /** Upload progress and processed files; without it uploads still work, without live progress. */
  stream?: Pick<EventStream, 'onEvent'>
  /** Thread unread counts; without it threads show none. */
  notifications?: ThreadNotifications
  /** Open the chat at this message (a link: ?message=…&thread=…), highlighted. The link is
   * replaced by the chat's own path once followed. */
  target?: { messageId: string; threadId?: string } | null
}

const NO_NOTIFICATIONS: ThreadNotifications = {
  subscribe: () => () => undefined,
  getSnapshot: () => NO_UNREAD,
  markRead: () => Promise.resolve(),
}
const NO_UNREAD: Pick<CenterSnapshot, 'unreadReplies'> = { unreadReplies: {} }

/** Renews "5 min ago" every minute. */
const NOW_INTERVAL_MS = 60_000

/** One chat: header with members and pins, the messages, who is typing, the composer, and a
 * thread beside it when one is open. Mount one per chat (key): opening it asks the store to
 * load the chat and mark it read. */
export function ChatView({ store, snapshot, chatId, stream, notifications = NO_NOTIFICATIONS, target = null }: ChatViewProps) {
  const [openError, setOpenError] = useState<string | null>(null)
  const [actionError, setActionError] = useState<string | null>(null)
  const [notice, setNotice] = useState('')
  const uploads = useUploads(chatId, stream ?? null)
  const [dropping, setDropping] = useState(false)
  const [addingMember, setAddingMember] = useState(false)
  const [settingsOpen, setSettingsOpen] = useState(false)
  const [threadId, setThreadId] = useState<string | null>(null)
  const [editingId, setEditingId] = useState<string | null>(null)
  const editReturn = useRef<HTMLElement | null>(null)
  const [deleting, setDeleting] = useState<Message | null>(null)
  const [linkToCopy, setLinkToCopy] = useState<string | null>(null)
  const [chatFocus, setChatFocus] = useState<FocusRequest | null>(null)
  const [threadFocus, setThreadFocus] = useState<FocusRequest | null>(null)
  const focusSeq = useRef(0)
  const [now, setNow] = useState(() => Date.now())
  const { unreadReplies } = useExternalStore(notifications)
  const headingId = useId()

  useEffect(() => {
    let current = true
    store.openChat(chatId).catch((err: unknown) => {
      if (current) setOpenError(errorMessage(err))
    })
    // The header's pin count; the list loads them again when opened.
    store.loadPins(chatId).catch(() => undefined)
    return () => {
      current = false
      store.closeChat(chatId)
    }
  }, [store, chatId])

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), NOW_INTERVAL_MS)
    return () => clearInterval(timer)
  }, [])

  // Focus goes back where it was when the inline editor opened.
  useLayoutEffect(() => {
    if (editingId !== null) return
    const el = editReturn.current
    editReturn.current = null
    if (el?.isConnected) el.focus()
  }, [editingId])

  // A link to a reply opens its thread (show then finds the reply there).
  const [linkedThread, setLinkedThread] = useState<string | undefined>(undefined)
  if (target?.threadId !== linkedThread) {
    setLinkedThread(target?.threadId)
    if (target?.threadId !== undefined) setThreadId(target.threadId)
  }

  /** Brings a message into view, highlighted: in the chat's history, or in its thread (which
   * the caller opens). */
  const show = useCallback(
    async (messageId: string, parentId?: string) => {
      if (parentId !== undefined) {
        await store.openThread(chatId, parentId)
        const found = await store.findReply(parentId, messageId)
        // The chat behind shows where the thread is.
        void store.showMessage(chatId, parentId).catch(() => undefined)
        setThreadFocus({ messageId: found ? messageId : parentId, seq: ++focusSeq.current })
        if (!found) setActionError('That reply is not in the thread any more.')
        return
      }
      if (await store.showMessage(chatId, messageId)) {
        setChatFocus({ messageId, seq: ++focusSeq.current })
      } else {
        setActionError('That message is not in the history of this chat.')
      }
    },
    [store, chatId],
  )

  const targetMessage = target?.messageId
  const targetThread = target?.threadId
  useEffect(() => {
    if (targetMessage === undefined) return
    let current = true
    show(targetMessage, targetThread)
      .catch((err: unknown) => {
        if (current) setActionError(errorMessage(err))
      })
      .finally(() => {
        // Followed: the address is the chat's own again, and the same link works once more.
        if (current) navigate(chatPath(chatId), { replace: true })
      })
    return () => {
      current = false
    }
  }, [show, chatId, targetMessage, targetThread])

  const loadOlder = useCallback(
    (options?: LoadOlderOptions) => {
      store.loadOlder(chatId, options).catch((err: unknown) => setOpenError(errorMessage(err)))
    },
    [store, chatId],
  )
  const loadNewer = useCallback(
    (options?: LoadOlderOptions) => {
      store.loadNewer(chatId, options).catch((err: unknown) => setOpenError(errorMessage(err)))
    },
    [store, chatId],
  )
  const jumpToLatest = useCallback(() => {
    store.jumpToLatest(chatId).catch((err: unknown) => setOpenError(errorMessage(err)))
  }, [store, chatId])
  const retry = useCallback((clientId: string) => store.retry(clientId), [store])
  const discard = useCallback((clientId: string) => store.discard(clientId), [store])
  const markRepliesRead = useCallback(
    (ids: string[]) => void notifications.markRead(ids).catch(() => undefined),
    [notifications],
  )

  const users = snapshot.users
  const nameOf = useCallback((userId: string) => personName(users[userId]), [users])
  const me = snapshot.me
  const usernames = useMemo(() => new Set(Object.values(users).map((u) => u.username)), [users])

  const actions = useMemo<MessageActions>(() => {
    const failed = (err: unknown) => setActionError(errorMessage(err))
    return {
      me,
      usernames,
      nameOf,
      editingId,
      startEdit: (messageId, returnFocus) => {
        editReturn.current = returnFocus ?? (document.activeElement instanceof HTMLElement ? document.activeElement : null)
        setEditingId(messageId)
      },
      endEdit: () => setEditingId(null),
      saveEdit: (message, content) => store.editMessage(chatId, message.id, content),
      requestDelete: (message) => setDeleting(message),
      openThread: (parentId) => setThreadId(parentId),
      react: (message, emoji, on) => void store.react(chatId, message.id, emoji, on).catch(failed),
      pin: (message, on) => {
        store.pin(chatId, message.id, on).then(
          () => setNotice(on ? 'Message pinned.' : 'Message unpinned.'),
          failed,
        )
      },
      copyLink: (message) => {
        const path = messagePath(chatId, message.id, threadOnly(message) ? message.parentId : undefined)
        const url = `${window.location.origin}${path}`
        void copyText(url).then((copied) => {
          if (copied) setNotice('Link copied.')
          else setLinkToCopy(url)
        })
      },
      unreadReplies,
      now,
    }
  }, [me, usernames, nameOf, editingId, store, chatId, unreadReplies, now])

  /** ↑ in an empty composer: the user's last message there that they may edit. */
  const editLast = useCallback(
    (messages: Message[], returnFocus: HTMLElement | null): boolean => {
      const last = messages.findLast((m) => mayEdit(m, me))
      if (!last) return false
      actions.startEdit(last.id, returnFocus)
      return true
    },
    [actions, me],
  )

  const chat = snapshot.chats.find((c) => c.id === chatId)
  const members = (chat?.memberIds ?? []).flatMap((id) => snapshot.users[id] ?? [])
  const candidates = Object.values(snapshot.users).filter(
    (user) => chat && !chat.memberIds.includes(user.id),
  )
  const typers = (snapshot.typing[chatId] ?? []).map((id) => personName(snapshot.users[id]))
  const name = chat ? chatLabel(chat, snapshot.users, me.id) : ''
  const title = chat ? chatTitle(chat, snapshot.users, me.id) : ''
  const view = snapshot.views[chatId]
  const departed = chat ? undefined : snapshot.departed[chatId]
  const dmWith = chat?.kind === 'dm' ? dmPeople(chat, snapshot.users, me.id) : []
  // A DM whose other person an admin deactivated: they read and write nothing until reactivated.
  const dmDeactivated = dmWith.length === 1 && dmWith[0]?.deactivated === true
  const dmPresence = dmWith.length === 1 ? (dmDeactivated ? 'offline' : presenceOf(dmWith[0])) : undefined
  const manage = chat ? mayManage(chat, me) : false
  // backend.MayAddMember: a channel's managers, a private chat's members; never a DM or an
  // archived chat.
  const mayAdd = chat !== undefined && !chat.archived && (chat.kind === 'private' || (chat.kind === 'channel' && manage))
  // Who the message goes to that is in do not disturb or quiet hours: a DM's other people, or
  // the members the draft mentions elsewhere.
  const [mentioned, setMentioned] = useState<string[]>([])
  const quiet = useQuietPeople(store, chat, snapshot.users, mentioned)
  const messagePerson = useCallback(
    (userId: string) => {
      store.createDM([userId]).then(
        (dm) => navigate(chatPath(dm.id)),
        (err: unknown) => setActionError(`Could not start the conversation: ${errorMessage(err)}`),
      )
    },
    [store],
  )

  if (departed) {
    const what = chatTitle(departed.chat, snapshot.users, me.id)
    return (
      <section className="chat" aria-labelledby={headingId}>
        <div className="empty-state">
          <h1 id={headingId}>
            {departed.reason === 'removed' ? (
              <>
                You were removed from <bdi>{what}</bdi>
              </>
            ) : departed.chat.kind === 'dm' ? (
              <>
                Your conversation with <bdi>{what}</bdi> is hidden
              </>
            ) : (
              <>
                You left <bdi>{what}</bdi>
              </>
            )}
          </h1>
          <p>
            {departed.chat.kind === 'channel'
              ? 'Its messages are no longer shown to you. You can join it again from Browse channels.'
              : departed.chat.kind === 'dm'
                ? 'It comes back when someone writes in it.'
                : 'Its messages are no longer shown to you. A member can add you again.'}
          </p>
          <p>
            <Link to={homePath}>Go to all chats</Link>
          </p>
        </div>
      </section>
    )
  }

  // Files dragged onto the chat upload into it.
  function dragOver(event: DragEvent<HTMLElement>) {
    if (!chat || !event.dataTransfer.types.includes('Files')) return
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
    setDropping(true)
  }
  function dragLeave(event: DragEvent<HTMLElement>) {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDropping(false)
  }
  function drop(event: DragEvent<HTMLElement>) {
    setDropping(false)
    if (!chat || event.dataTransfer.files.length === 0) return
    event.preventDefault()
    uploads.start([...event.dataTransfer.files])
  }

  return (
    <section
      className={['chat', dropping ? 'drop-target' : '', threadId ? 'thread-open' : ''].join(' ')}
      aria-labelledby={headingId}
      onDragOver={dragOver}
      onDragLeave={dragLeave}
      onDrop={drop}
    >
      <MessageActionsContext.Provider value={actions}>
        <div className="chat-main">
          <div className="chat-header">
            <div className="chat-title">
              <Link to={homePath} className="back-link">
                <span aria-hidden="true">‹ </span>All chats
              </Link>
              <h1 id={headingId}>
                {chat ? (
                  <>
                    <ChatMark kind={chat.kind} presence={dmPresence} />
                    <bdi>{name}</bdi>
                    {chat.kind === 'private' && <span className="visually-hidden"> (private)</span>}
                    {chat.archived && <span className="hint"> (archived)</span>}
                    {dmDeactivated && (
                      <>
                        {' '}
                        <span className="hint">(deactivated)</span>
                      </>
                    )}
                  </>
                ) : openError ? (
                  'Chat not available'
                ) : (
                  'Loading…'
                )}
              </h1>
              {chat && (
                <PinnedButton
                  title={title}
                  pins={snapshot.pins[chatId]}
                  nameOf={nameOf}
                  load={() => store.loadPins(chatId)}
                  onJump={(message) => {
                    const parentId = threadOnly(message) ? message.parentId : undefined
                    if (parentId !== undefined) setThreadId(parentId)
                    show(message.id, parentId).catch((err: unknown) => setActionError(errorMessage(err)))
                  }}
                  onUnpin={(message) => actions.pin(message, false)}
                />
              )}
              {mayAdd && (
                <button type="button" className="secondary small" onClick={() => setAddingMember(true)}>
                  Add member
                </button>
              )}
              {chat && (
                <button type="button" className="secondary small" onClick={() => setSettingsOpen(true)}>
                  Chat settings
                </button>
              )}
            </div>
            {chat?.topic && (
              <p className="chat-topic" dir="auto" title={chat.topic}>
                <span className="visually-hidden">Topic: </span>
                {chat.topic}
              </p>
            )}
            {members.length > 0 && <MemberList members={members} meId={me.id} onMessage={messagePerson} />}
          </div>
          {openError && (
            <p className="banner error" role="alert">
              {openError}
            </p>
          )}
          {actionError && (
            <div className="banner error-banner">
              <p className="error" role="alert">
                {actionError}
              </p>
              <button type="button" className="secondary small" onClick={() => setActionError(null)}>
                Dismiss
              </button>
            </div>
          )}
          {(view || !openError) && (
            <MessageList
              title={title}
              {...(chat?.kind === 'dm'
                ? { beginning: <p className="history-start">This is the very beginning of your conversation with <bdi>{name}</bdi>.</p> }
                : {})}
              view={view}
              users={snapshot.users}
              me={snapshot.me}
              onLoadOlder={loadOlder}
              onLoadNewer={loadNewer}
              onJumpToLatest={jumpToLatest}
              onRetry={retry}
              onDiscard={discard}
              focus={chatFocus}
            />
          )}
          <TypingLine names={typers} />
          {dropping && (
            <p className="drop-hint" aria-hidden="true">
              Drop files to upload them to {title}
            </p>
          )}
          <UploadList uploads={uploads.uploads} onCancel={uploads.cancel} onDismiss={uploads.dismiss} />
          {chat?.archived && (
            <div className="archived-note" role="status">
              <p>
                <strong>This chat is archived.</strong> It is read-only: nobody can post in it.
              </p>
              {manage && (
                <button
                  type="button"
                  className="secondary small"
                  onClick={() =>
                    void store
                      .updateChat(chatId, { archived: false })
                      .then(() => setNotice('Chat unarchived.'))
                      .catch((err: unknown) => setActionError(errorMessage(err)))
                  }
                >
                  Unarchive
                </button>
              )}
            </div>
          )}
          {chat && !chat.archived && (
            <Composer
              title={title}
              onSend={(content, options) =>
                options ? store.send(chatId, content, options) : store.send(chatId, content)
              }
              onTyped={() => store.typed(chatId)}
              onAttach={uploads.start}
              members={members}
              onEditLast={() => editLast(view?.messages ?? [], focused())}
              quiet={quiet}
              onMentionsChange={setMentioned}
            />
          )}
        </div>
        {chat && threadId && (
          <ThreadPanel
            key={threadId}
            store={store}
            snapshot={snapshot}
            chatId={chatId}
            title={title}
            parentId={threadId}
            onClose={() => {
              setThreadId(null)
              setThreadFocus(null)
            }}
            unreadReplies={unreadReplies[threadId] ?? NO_IDS}
            markRepliesRead={markRepliesRead}
            focus={threadFocus}
            onEditLast={editLast}
          />
        )}
      </MessageActionsContext.Provider>
      <div className="visually-hidden" aria-live="polite">
        {notice}
      </div>
      {chat && settingsOpen && (
        <ChatSettingsDialog
          chat={chat}
          me={me}
          users={snapshot.users}
          updateChat={(change) => store.updateChat(chatId, change)}
          removeMember={(userId) => store.removeMember(chatId, userId)}
          leaveChat={async () => {
            await store.leaveChat(chatId)
            navigate(homePath)
          }}
          onClose={() => setSettingsOpen(false)}
        />
      )}
      {chat && addingMember && (
        <AddMemberDialog
          title={title}
          candidates={candidates}
          addMember={(userId) => store.addMember(chatId, userId)}
          onClose={() => setAddingMember(false)}
        />
      )}
      {deleting && (
        <DeleteDialog
          author={nameOf(deleting.authorId)}
          mine={deleting.authorId === me.id}
          onConfirm={async () => {
            await store.deleteMessage(chatId, deleting.id)
            setDeleting(null)
            setNotice('Message deleted.')
          }}
          onClose={() => setDeleting(null)}
        />
      )}
      {linkToCopy && <CopyLinkDialog url={linkToCopy} onClose={() => setLinkToCopy(null)} />}
    </section>
  )
}

const NO_IDS: readonly string[] = []

/** "Delete message?": for everyone, for good. */
function DeleteDialog({
  author,
  mine,
  onConfirm,
  onClose,
}: {
  author: string
  mine: boolean
  onConfirm: () => Promise<void>
  onClose: () => void
}) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  async function confirm() {
    setBusy(true)
    setError(null)
    try {
      await onConfirm()
    } catch (err) {
      setError(errorMessage(err))
      setBusy(false)
    }
  }
  return (
    <Modal title="Delete message?" onClose={onClose}>
      <p>
        {mine ? 'Your message' : <>The message from <bdi>{author}</bdi></>} will be deleted for everyone in the chat.
        This cannot be undone.
      </p>
      {error && (
        <p className="error" role="alert">
          Could not delete it: {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => void confirm()} disabled={busy}>
          {busy ? 'Deleting…' : 'Delete'}
        </button>
      </div>
    </Modal>
  )
}

/** Where the clipboard cannot be reached (plain HTTP): the link, selected, to copy by hand. */
function CopyLinkDialog({ url, onClose }: { url: string; onClose: () => void }) {
  return (
    <Modal title="Link to the message" onClose={onClose}>
      <p>Copy this link to share the message with members of the chat.</p>
      <input
        readOnly
        aria-label="Link to the message"
        value={url}
        // The dialog opens with the link selected, ready to copy.
        autoFocus
        onFocus={(event) => event.target.select()}
      />
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  )
}
