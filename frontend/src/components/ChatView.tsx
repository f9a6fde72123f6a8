import { useCallback, useEffect, useId, useState, type DragEvent } from 'react'
import { errorMessage } from '../api/client'
import { homePath } from '../router'
import type { ChatStoreApi, LoadOlderOptions, Snapshot } from '../state/types'
import type { EventStream } from '../stream/types'
import { AddMemberDialog } from './AddMemberDialog'
import { Composer } from './Composer'
import { Link } from './Link'
import { MemberList } from './MemberList'
import { MessageList } from './MessageList'
import { personName } from './names'
import { TypingLine } from './TypingLine'
import { UploadList } from './UploadButton'
import { useUploads } from './uploads'

interface ChatViewProps {
  store: ChatStoreApi
  snapshot: Snapshot
  chatId: string
  /** Upload progress and processed files; without it uploads still work, without live progress. */
  stream?: Pick<EventStream, 'onEvent'>
}

/** One chat: header with members, the messages, who is typing, the composer. Mount one per
 * chat (key): opening it asks the store to load the chat and mark it read. */
export function ChatView({ store, snapshot, chatId, stream }: ChatViewProps) {
  const [openError, setOpenError] = useState<string | null>(null)
  const uploads = useUploads(chatId, stream ?? null)
  const [dropping, setDropping] = useState(false)
  const [addingMember, setAddingMember] = useState(false)
  const headingId = useId()

  useEffect(() => {
    let current = true
    store.openChat(chatId).catch((err: unknown) => {
      if (current) setOpenError(errorMessage(err))
    })
    return () => {
      current = false
      store.closeChat(chatId)
    }
  }, [store, chatId])

  const loadOlder = useCallback(
    (options?: LoadOlderOptions) => {
      store.loadOlder(chatId, options).catch((err: unknown) => setOpenError(errorMessage(err)))
    },
    [store, chatId],
  )
  const retry = useCallback((clientId: string) => store.retry(clientId), [store])
  const discard = useCallback((clientId: string) => store.discard(clientId), [store])

  const chat = snapshot.chats.find((c) => c.id === chatId)
  const members = (chat?.memberIds ?? []).flatMap((id) => snapshot.users[id] ?? [])
  const candidates = Object.values(snapshot.users).filter(
    (user) => chat && !chat.memberIds.includes(user.id),
  )
  const typers = (snapshot.typing[chatId] ?? []).map((id) => personName(snapshot.users[id]))
  const name = chat?.name ?? ''
  const view = snapshot.views[chatId]

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
      className={dropping ? 'chat drop-target' : 'chat'}
      aria-labelledby={headingId}
      onDragOver={dragOver}
      onDragLeave={dragLeave}
      onDrop={drop}
    >
      <div className="chat-header">
        <div className="chat-title">
          <Link to={homePath} className="back-link">
            <span aria-hidden="true">‹ </span>All chats
          </Link>
          <h1 id={headingId}>
            {chat ? (
              <>
                <span className="hash" aria-hidden="true">
                  #
                </span>
                <bdi>{chat.name}</bdi>
              </>
            ) : openError ? (
              'Chat not available'
            ) : (
              'Loading…'
            )}
          </h1>
          {chat && (
            <button type="button" className="secondary small" onClick={() => setAddingMember(true)}>
              Add member
            </button>
          )}
        </div>
        {members.length > 0 && <MemberList members={members} />}
      </div>
      {openError && (
        <p className="banner error" role="alert">
          {openError}
        </p>
      )}
      {(view || !openError) && (
        <MessageList
          chatName={name}
          view={view}
          users={snapshot.users}
          me={snapshot.me}
          onLoadOlder={loadOlder}
          onRetry={retry}
          onDiscard={discard}
        />
      )}
      <TypingLine names={typers} />
      {dropping && (
        <p className="drop-hint" aria-hidden="true">
          Drop files to upload them to #{name}
        </p>
      )}
      <UploadList uploads={uploads.uploads} onCancel={uploads.cancel} onDismiss={uploads.dismiss} />
      {chat && (
        <Composer
          chatName={chat.name}
          onSend={(content) => store.send(chatId, content)}
          onTyped={() => store.typed(chatId)}
          onAttach={uploads.start}
          members={members}
        />
      )}
      {chat && addingMember && (
        <AddMemberDialog
          chatName={chat.name}
          candidates={candidates}
          addMember={(userId) => store.addMember(chatId, userId)}
          onClose={() => setAddingMember(false)}
        />
      )}
    </section>
  )
}
