import { useCallback, useEffect, useId, useState } from 'react'
import { errorMessage } from '../api/client'
import { homePath } from '../router'
import type { ChatStoreApi, LoadOlderOptions, Snapshot } from '../state/types'
import { AddMemberDialog } from './AddMemberDialog'
import { Composer } from './Composer'
import { Link } from './Link'
import { MemberList } from './MemberList'
import { MessageList } from './MessageList'
import { personName } from './names'
import { TypingLine } from './TypingLine'

interface ChatViewProps {
  store: ChatStoreApi
  snapshot: Snapshot
  chatId: string
}

/** One chat: header with members, the messages, who is typing, the composer. Mount one per
 * chat (key): opening it asks the store to load the chat and mark it read. */
export function ChatView({ store, snapshot, chatId }: ChatViewProps) {
  const [openError, setOpenError] = useState<string | null>(null)
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

  return (
    <section className="chat" aria-labelledby={headingId}>
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
                {chat.name}
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
      {chat && (
        <Composer
          chatName={chat.name}
          onSend={(content) => store.send(chatId, content)}
          onTyped={() => store.typed(chatId)}
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
