import { useId, useState } from 'react'
import type { Chat, User } from '../api/types'
import type { Member } from '../state/types'
import { adminPath, chatPath, settingsPath } from '../router'
import { Link } from './Link'
import { Avatar, PresenceMarker } from './Avatar'
import { chatLabel, dmPeople, presenceOf, type Presence } from './chatNames'
import { personName } from './names'
import { PRESENCE_WORDS, PresenceMark } from './PresenceMark'

interface SidebarProps {
  me: User
  chats: readonly Chat[]
  /** The directory: DMs are named by their people, with their presence. */
  users?: Record<string, Member>
  /** The chat shown beside the sidebar, if any. */
  activeChatId: string | null
  onNewChat: () => void
  /** Browse channels; no button without it. */
  onBrowse?: () => void
  /** Start a direct message; no button without it. */
  onNewMessage?: () => void
  /** Admins only; no Invite people button without it. */
  onInvite?: () => void
  onSignOut: () => void
  signingOut: boolean
  /** The settings page is open: its link is marked current. */
  settingsOpen?: boolean
  /** The admin page is open (admins see its link). */
  adminOpen?: boolean
  /** Chats the user muted (preferences mutedChats). */
  mutedChats?: readonly string[]
}

const NO_USERS: Record<string, Member> = {}

export function Sidebar({
  me,
  chats,
  users = NO_USERS,
  activeChatId,
  onNewChat,
  onBrowse,
  onNewMessage,
  onInvite,
  onSignOut,
  signingOut,
  settingsOpen = false,
  adminOpen = false,
  mutedChats = NO_IDS,
}: SidebarProps) {
  const chatsHeadingId = useId()
  const channelsId = useId()
  const dmsId = useId()
  const archivedId = useId()
  const [archivedOpen, setArchivedOpen] = useState(false)
  const channels = chats.filter((c) => c.kind !== 'dm' && !c.archived)
  const dms = chats.filter((c) => c.kind === 'dm' && !c.archived)
  const archived = chats.filter((c) => c.archived)
  // The open chat's section is never hidden.
  const showArchived = archivedOpen || archived.some((c) => c.id === activeChatId)
  return (
    <aside className="sidebar">
      <div className="sidebar-actions">
        <button type="button" onClick={onNewChat}>
          New chat
        </button>
        {onNewMessage && (
          <button type="button" className="secondary" onClick={onNewMessage}>
            Direct message
          </button>
        )}
        {onBrowse && (
          <button type="button" className="secondary" onClick={onBrowse}>
            Browse channels
          </button>
        )}
        {onInvite && (
          <button type="button" className="secondary" onClick={onInvite}>
            Invite people
          </button>
        )}
      </div>
      <nav className="chat-nav" aria-labelledby={chatsHeadingId}>
        <h2 id={chatsHeadingId} className="visually-hidden">
          Chats
        </h2>
        {chats.length === 0 ? (
          <p className="sidebar-empty">No chats yet.</p>
        ) : (
          <>
            <section aria-labelledby={channelsId}>
              <h3 id={channelsId} className="sidebar-heading">
                Channels
              </h3>
              <ChatList chats={channels} users={users} me={me} activeChatId={activeChatId} mutedChats={mutedChats} empty="No channels yet." />
            </section>
            <section aria-labelledby={dmsId}>
              <h3 id={dmsId} className="sidebar-heading">
                Direct messages
              </h3>
              <ChatList chats={dms} users={users} me={me} activeChatId={activeChatId} mutedChats={mutedChats} empty="No direct messages yet." />
            </section>
            {archived.length > 0 && (
              <section className="sidebar-archived">
                <h3 className="sidebar-heading">
                  <button
                    type="button"
                    className="disclosure"
                    aria-expanded={showArchived}
                    aria-controls={archivedId}
                    onClick={() => setArchivedOpen(!showArchived)}
                  >
                    <span className="disclosure-mark" aria-hidden="true">
                      {showArchived ? '▾' : '▸'}
                    </span>
                    Archived ({archived.length})
                  </button>
                </h3>
                <div id={archivedId} hidden={!showArchived}>
                  <ChatList chats={archived} users={users} me={me} activeChatId={activeChatId} mutedChats={mutedChats} />
                </div>
              </section>
            )}
          </>
        )}
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

const NO_IDS: readonly string[] = []

/**
 * One link per chat, named by the chat's name alone (a DM: its other people's names). The unread
 * and mention badges sit beside the link, not in it, so they never change the link's name; screen
 * readers get the link's description instead, in words: "private" or a person's presence (or
 * "deactivated"), "3 unread", "1 mention", "muted" — "online, 3 unread, 1 mention".
 */
export function ChatList({
  chats,
  users = NO_USERS,
  me,
  activeChatId,
  mutedChats = NO_IDS,
  empty,
}: {
  chats: readonly Chat[]
  users?: Record<string, Member>
  me: User
  activeChatId: string | null
  /** Chats the user muted (preferences mutedChats): dimmed and described as muted. */
  mutedChats?: readonly string[]
  /** Said when there are none; nothing without it. */
  empty?: string
}) {
  const idPrefix = useId()
  if (chats.length === 0) {
    return empty ? <p className="sidebar-empty">{empty}</p> : null
  }
  return (
    <ul className="chat-list">
      {chats.map((chat) => {
        const unread = chat.unread ?? 0
        const mentions = chat.mentions ?? 0
        const muted = mutedChats.includes(chat.id)
        const descriptionId = `${idPrefix}-${chat.id}`
        const active = chat.id === activeChatId
        const count = unread >= MAX_UNREAD ? `${MAX_UNREAD}+` : String(unread)
        const people = chat.kind === 'dm' ? dmPeople(chat, users, me.id) : []
        // A DM with one person shows them and their presence; a group DM how many they are.
        const person = people.length === 1 ? people[0] : undefined
        const deactivated = person?.deactivated === true
        const presence = person ? presenceOf(person) : undefined
        const kindWords =
          chat.kind === 'private'
            ? 'private'
            : deactivated
              ? 'deactivated'
              : presence
                ? PRESENCE_WORDS[presence]
                : chat.kind === 'dm'
                  ? `${people.length + 1} people`
                  : undefined
        const description = [
          kindWords,
          unread > 0 ? `${count} unread` : undefined,
          mentions > 0 ? (mentions === 1 ? '1 mention' : `${mentions} mentions`) : undefined,
          muted ? 'muted' : undefined,
        ]
          .filter(Boolean)
          .join(', ')
        const classes = [
          unread > 0 && !active ? 'has-unread' : '',
          muted ? 'muted-chat' : '',
          unread > 0 && mentions > 0 ? 'two-badges' : '',
        ]
          .filter(Boolean)
          .join(' ')
        return (
          <li key={chat.id} className={classes || undefined}>
            <Link
              to={chatPath(chat.id)}
              className="chat-link"
              aria-current={active ? 'page' : undefined}
              aria-describedby={description ? descriptionId : undefined}
            >
              {chat.kind === 'dm' ? (
                <DMAvatar people={people} presence={deactivated ? undefined : presence} />
              ) : (
                <ChatMark kind={chat.kind} />
              )}
              <span className="chat-name" dir="auto">
                {chatLabel(chat, users, me.id)}
              </span>
              {deactivated && (
                <span className="chat-hint" aria-hidden="true">
                  deactivated
                </span>
              )}
              {muted && <MutedMark />}
            </Link>
            {description && (
              <span id={descriptionId} hidden>
                {description}
              </span>
            )}
            {(unread > 0 || mentions > 0) && (
              <span className="badges" aria-hidden="true">
                {mentions > 0 && (
                  <span className="badge mention-badge" title={mentions === 1 ? '1 mention' : `${mentions} mentions`}>
                    @{mentions > MAX_UNREAD ? `${MAX_UNREAD}+` : mentions}
                  </span>
                )}
                {unread > 0 && <span className="badge">{count}</span>}
              </span>
            )}
          </li>
        )
      })}
    </ul>
  )
}

/** A DM's picture: the other person's avatar with their presence marker (none for a deactivated
 * account); for a group DM the first two, stacked, and how many more. Decorative: the link says
 * who, and its description their presence. */
function DMAvatar({ people, presence }: { people: readonly Member[]; presence: Presence | undefined }) {
  const [first, second] = people
  if (people.length <= 1) {
    return (
      <span className="member-avatar chat-avatar" aria-hidden="true">
        <Avatar user={first} size={18} />
        {presence && <PresenceMarker status={presence} />}
      </span>
    )
  }
  return (
    <span className="group-avatar chat-avatar" aria-hidden="true">
      <Avatar user={first} size={14} />
      <Avatar user={second} size={14} />
      {people.length > 2 && <span className="group-more">+{people.length - 2}</span>}
    </span>
  )
}

/** A muted chat's mark, a bell struck through (decorative: the description says "muted"). */
function MutedMark() {
  return (
    <svg className="muted-mark" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M8 1.5a4 4 0 0 0-4 4v2.6L2.6 10.5a.6.6 0 0 0 .5.9h9.8a.6.6 0 0 0 .5-.9L12 8.1V5.5a4 4 0 0 0-4-4ZM6.3 12.6a1.8 1.8 0 0 0 3.4 0Z"
      />
      <path stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" d="M2 2l12 12" />
    </svg>
  )
}

/** Before a chat's name: # for a channel, a lock for a private chat, presence or a group mark for
 * a DM. Decorative: ChatList describes the link in words. */
export function ChatMark({ kind, presence }: { kind: Chat['kind']; presence?: Presence | undefined }) {
  if (kind === 'private') {
    return (
      <svg className="chat-mark lock" viewBox="0 0 16 16" width="13" height="13" aria-hidden="true" focusable="false">
        <path
          fill="currentColor"
          d="M8 1a3.5 3.5 0 0 0-3.5 3.5V7H4a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1h-.5V4.5A3.5 3.5 0 0 0 8 1Zm-2 6V4.5a2 2 0 1 1 4 0V7H6Z"
        />
      </svg>
    )
  }
  if (kind === 'dm') {
    return presence ? (
      <span className="chat-mark">
        <PresenceMark presence={presence} />
      </span>
    ) : (
      <span className="chat-mark group-mark" aria-hidden="true">
        ⁂
      </span>
    )
  }
  return (
    <span className="hash chat-mark" aria-hidden="true">
      #
    </span>
  )
}
