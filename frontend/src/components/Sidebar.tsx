import { useId } from 'react'
import type { Chat, User } from '../api/types'
import { adminPath, chatPath, settingsPath } from '../router'
import { Link } from './Link'
import { personName } from './names'

interface SidebarProps {
  me: User
  chats: readonly Chat[]
  /** The chat shown beside the sidebar, if any. */
  activeChatId: string | null
  onNewChat: () => void
  /** Admins only; no Invite people button without it. */
  onInvite?: () => void
  onSignOut: () => void
  signingOut: boolean
  /** The settings page is open: its link is marked current. */
  settingsOpen?: boolean
  /** The admin page is open (admins see its link). */
  adminOpen?: boolean
}

export function Sidebar({
  me,
  chats,
  activeChatId,
  onNewChat,
  onInvite,
  onSignOut,
  signingOut,
  settingsOpen = false,
  adminOpen = false,
}: SidebarProps) {
  const chatsHeadingId = useId()
  return (
    <aside className="sidebar">
      <div className="sidebar-actions">
        <button type="button" onClick={onNewChat}>
          New chat
        </button>
        {onInvite && (
          <button type="button" className="secondary" onClick={onInvite}>
            Invite people
          </button>
        )}
      </div>
      <nav className="chat-nav" aria-labelledby={chatsHeadingId}>
        <h2 id={chatsHeadingId} className="sidebar-heading">
          Chats
        </h2>
        <ChatList chats={chats} activeChatId={activeChatId} />
      </nav>
      <div className="sidebar-me">
        <span className="me-name">
          <span className="me-display" dir="auto">
            {personName(me)}
          </span>
          <span className="me-username">@{me.username}</span>
        </span>
        {/* Below the name, which keeps the footer's whole width. */}
        <div className="me-actions">
          <Link
            to={settingsPath}
            className="sidebar-settings"
            aria-current={settingsOpen ? 'page' : undefined}
            title="Notification settings"
          >
            Settings
          </Link>
          {me.role === 'admin' && (
            <Link
              to={adminPath()}
              className="sidebar-settings"
              aria-current={adminOpen ? 'page' : undefined}
              title="People, invites, audit log, team settings"
            >
              Admin
            </Link>
          )}
          <button type="button" className="secondary small" onClick={onSignOut} disabled={signingOut}>
            Sign out
          </button>
        </div>
      </div>
    </aside>
  )
}

// The server caps unread counts at this many (backend.MaxUnreadCount).
const MAX_UNREAD = 999

/**
 * One link per chat, named by the chat's name alone. The unread badge sits beside the link, not
 * in it, so it never changes the link's name; screen readers get "3 unread" as the link's
 * description instead.
 */
export function ChatList({
  chats,
  activeChatId,
}: {
  chats: readonly Chat[]
  activeChatId: string | null
}) {
  const idPrefix = useId()
  if (chats.length === 0) {
    return <p className="sidebar-empty">No chats yet.</p>
  }
  return (
    <ul className="chat-list">
      {chats.map((chat) => {
        const unread = chat.unread ?? 0
        const badgeId = `${idPrefix}-${chat.id}`
        const active = chat.id === activeChatId
        const count = unread >= MAX_UNREAD ? `${MAX_UNREAD}+` : String(unread)
        return (
          <li key={chat.id} className={unread > 0 && !active ? 'has-unread' : undefined}>
            <Link
              to={chatPath(chat.id)}
              className="chat-link"
              aria-current={active ? 'page' : undefined}
              aria-describedby={unread > 0 ? badgeId : undefined}
            >
              <span className="hash" aria-hidden="true">
                #
              </span>
              <span className="chat-name" dir="auto">
                {chat.name}
              </span>
            </Link>
            {unread > 0 && (
              <>
                <span className="badge" aria-hidden="true">
                  {count}
                </span>
                <span id={badgeId} hidden>
                  {`${count} unread`}
                </span>
              </>
            )}
          </li>
        )
      })}
    </ul>
  )
}
