import { useEffect, useState } from 'react'
import { errorMessage, type ApiClient } from '../api/client'
import type { Chat, User } from '../api/types'

interface WorkspaceProps {
  api: ApiClient
  user: User
  onSignedOut: () => void
}

/** The signed-in view: who is signed in and the chats they belong to. */
export function Workspace({ api, user, onSignedOut }: WorkspaceProps) {
  const [chats, setChats] = useState<Chat[] | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    let current = true
    api.listChats().then(
      (list) => {
        if (current) setChats(list)
      },
      (err: unknown) => {
        if (current) setError(errorMessage(err))
      },
    )
    return () => {
      current = false
    }
  }, [api])

  async function signOut() {
    try {
      await api.logout()
      onSignedOut()
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  return (
    <main className="workspace">
      <header>
        <p>Signed in as {user.displayName || user.username}</p>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <nav aria-label="Chats">
        {chats ? <ChatList chats={chats} /> : !error && <p className="status">Loading chats…</p>}
      </nav>
    </main>
  )
}

// The server caps unread counts at this many (backend.MaxUnreadCount).
const MAX_UNREAD = 999

function ChatList({ chats }: { chats: Chat[] }) {
  if (chats.length === 0) {
    return <p className="status">No chats yet.</p>
  }
  return (
    <ul className="chat-list">
      {chats.map((chat) => (
        <li key={chat.id}>
          <span className="chat-name">{chat.name}</span>
          {chat.unread ? <UnreadBadge count={chat.unread} /> : null}
        </li>
      ))}
    </ul>
  )
}

function UnreadBadge({ count }: { count: number }) {
  const text = count >= MAX_UNREAD ? `${MAX_UNREAD}+` : String(count)
  return (
    <span className="unread" aria-label={`${text} unread`}>
      {text}
    </span>
  )
}
