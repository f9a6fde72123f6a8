import { useEffect, useState } from 'react'
import { errorMessage } from '../api/client'
import { useChatStore } from '../hooks/useChatStore'
import { chatPath, navigate } from '../router'
import type { ChatStoreApi } from '../state/types'
import type { EventStream } from '../stream/types'
import { ChatView } from './ChatView'
import { ConnectionIndicator } from './ConnectionIndicator'
import { InviteDialog, type Invite } from './InviteDialog'
import { NewChatDialog } from './NewChatDialog'
import { Sidebar } from './Sidebar'

interface WorkspaceProps {
  store: ChatStoreApi
  stream: EventStream
  /** The chat in the URL (/chats/{id}), or null for the chat list alone. */
  chatId: string | null
  /** Why the store could not load chats and people, if it could not. */
  loadError: string | null
  /** Asks the store to load them again. */
  onRetryLoad: () => void
  createInvite: () => Promise<Invite>
  /** Signs out on the server; rejects (and the user stays signed in) if that failed. */
  signOut: () => Promise<void>
}

/** The signed-in app: the sidebar and the open chat. */
export function Workspace({
  store,
  stream,
  chatId,
  loadError,
  onRetryLoad,
  createInvite,
  signOut,
}: WorkspaceProps) {
  const snapshot = useChatStore(store)
  const [dialog, setDialog] = useState<'new-chat' | 'invite' | null>(null)
  const [signingOut, setSigningOut] = useState(false)
  const [signOutError, setSignOutError] = useState<string | null>(null)

  const chat = chatId === null ? undefined : snapshot.chats.find((c) => c.id === chatId)
  const unread = snapshot.chats.reduce((sum, c) => sum + (c.unread ?? 0), 0)
  useEffect(() => {
    const place = chat ? `#${chat.name} · Herald` : 'Herald'
    document.title = unread > 0 ? `(${unread}) ${place}` : place
  }, [chat, unread])
  useEffect(
    () => () => {
      document.title = 'Herald'
    },
    [],
  )

  async function startSignOut() {
    setSigningOut(true)
    setSignOutError(null)
    try {
      await signOut()
    } catch (err) {
      setSignOutError(errorMessage(err))
      setSigningOut(false)
    }
  }

  const others = Object.values(snapshot.users).filter((user) => user.id !== snapshot.me.id)

  return (
    <div className={chatId === null ? 'workspace' : 'workspace chat-open'}>
      {/* Above the sidebar; on narrow screens above whichever of sidebar and chat is shown, so
          the connection state is always in view. */}
      <header className="app-bar">
        <span className="brand">Herald</span>
        <ConnectionIndicator stream={stream} />
      </header>
      <Sidebar
        me={snapshot.me}
        chats={snapshot.chats}
        activeChatId={chatId}
        onNewChat={() => setDialog('new-chat')}
        onInvite={snapshot.me.role === 'admin' ? () => setDialog('invite') : undefined}
        onSignOut={() => void startSignOut()}
        signingOut={signingOut}
      />
      <main className="conversation">
        {loadError && (
          <div className="banner">
            <p className="error" role="alert">
              Could not load your chats: {loadError}
            </p>
            <button type="button" className="secondary small" onClick={onRetryLoad}>
              Try again
            </button>
          </div>
        )}
        {signOutError && (
          <p className="banner error" role="alert">
            Could not sign out: {signOutError}
          </p>
        )}
        {chatId === null ? (
          <div className="empty-state">
            <h1>Welcome, {snapshot.me.displayName || snapshot.me.username}</h1>
            <p>
              {snapshot.chats.length === 0
                ? 'You are not in any chat yet. Start one with New chat.'
                : 'Pick a chat from the list, or start one with New chat.'}
            </p>
          </div>
        ) : (
          <ChatView key={chatId} store={store} snapshot={snapshot} chatId={chatId} />
        )}
      </main>
      {dialog === 'new-chat' && (
        <NewChatDialog
          people={others}
          createChat={(name, memberIds) => store.createChat(name, memberIds)}
          onCreated={(created) => {
            setDialog(null)
            navigate(chatPath(created.id))
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'invite' && (
        <InviteDialog createInvite={createInvite} onClose={() => setDialog(null)} />
      )}
    </div>
  )
}
