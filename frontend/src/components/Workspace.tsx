import { useCallback, useEffect, useMemo, useState } from 'react'
import { errorMessage, type SearchParams } from '../api/client'
import { useAwayReporter } from '../hooks/useAwayReporter'
import { useChatStore } from '../hooks/useChatStore'
import { NotificationBell } from '../notifications/NotificationCenter'
import type { Notifications } from '../notifications/pipeline'
import type { PreferencesSnapshot } from '../notifications/preferences'
import { ToastProvider } from '../notifications/Toasts'
import { useExternalStore, type ExternalStore } from '../notifications/useExternalStore'
import { chatPath, navigate, type AdminSection } from '../router'
import type { ChatStoreApi } from '../state/types'
import type { EventStream } from '../stream/types'
import { BrowseChannelsDialog } from './BrowseChannelsDialog'
import { chatTitle } from './chatNames'
import { AdminPage } from './admin/AdminPage'
import type { AdminApi } from './admin/adminApi'
import type { MonitorApi } from './admin/MonitorDashboard'
import { ChatView } from './ChatView'
import { ConnectionIndicator } from './ConnectionIndicator'
import { InviteDialog, type Invite } from './InviteDialog'
import { NewChatDialog } from './NewChatDialog'
import { NewMessageDialog } from './NewMessageDialog'
import { SearchBox } from './SearchBox'
import { AccountSettings, type AccountApi } from './settings/AccountSettings'
import { SettingsPage, type SettingsApi } from './settings/SettingsPage'
import { Sidebar } from './Sidebar'
import { TeamBrand } from './TeamBrand'
import { TaskPage, type TaskApi } from './TaskPage'

interface WorkspaceProps {
  store: ChatStoreApi
  stream: EventStream
  /** The chat in the URL (/chats/{id}), or null for the chat list alone. */
  chatId: string | null
  /** The message in the URL (/chats/{id}?message=…&thread=…) to open the chat at. */
  messageId?: string | null
  threadId?: string | null
  /** Why the store could not load chats and people, if it could not. */
  loadError: string | null
  /** Asks the store to load them again. */
  onRetryLoad: () => void
  createInvite: () => Promise<Invite>
  /** Signs out on the server; rejects (and the user stays signed in) if that failed. */
  signOut: () => Promise<void>
  /** Toasts, the notification center and their pipeline; started while the workspace shows. */
  notifications?: Notifications
  /** The settings page is open (/settings). */
  settings?: boolean
  /** The account page is open (/settings/account). */
  account?: boolean
  /** The task results page in the URL (/tasks/{id}), if open. */
  taskId?: string | null
  /** What the settings and task pages ask the server. */
  pagesApi?: SettingsApi & TaskApi & Partial<AccountApi> & { setAway?: (away: boolean) => Promise<unknown> }
  /** The admin page's section in the URL (/admin/{section}), if open. */
  adminSection?: AdminSection | null
  /** What the admin page asks the server. */
  adminApi?: AdminApi
  /** What the admin page's monitor dashboard asks the server. */
  monitorApi?: MonitorApi
}

const NO_PREFERENCES: ExternalStore<PreferencesSnapshot> = {
  subscribe: () => () => undefined,
  getSnapshot: () => NO_PREFERENCES_SNAPSHOT,
}
const NO_PREFERENCES_SNAPSHOT: PreferencesSnapshot = { preferences: null, loading: false, error: null }
const NO_MUTED: readonly string[] = []

/** The signed-in app: the sidebar and the open chat. */
export function Workspace({
  store,
  stream,
  chatId,
  messageId = null,
  threadId = null,
  loadError,
  onRetryLoad,
  createInvite,
  signOut,
  notifications,
  settings = false,
  account = false,
  taskId = null,
  pagesApi,
  adminSection = null,
  adminApi,
  monitorApi,
}: WorkspaceProps) {
  const snapshot = useChatStore(store)
  const setAway = useMemo(() => (pagesApi?.setAway ? (away: boolean) => pagesApi.setAway!(away) : undefined), [pagesApi])
  useAwayReporter(setAway)
  const [centerOpen, setCenterOpen] = useState(false)
  // Muted chats are dimmed in the sidebar, live as PREFERENCES_CHANGED brings them.
  const mutedChats = useExternalStore(notifications?.preferences ?? NO_PREFERENCES).preferences?.mutedChats ?? NO_MUTED
  useEffect(() => {
    if (!notifications) return
    notifications.start()
    return () => notifications.stop()
  }, [notifications])
  const [dialog, setDialog] = useState<'new-chat' | 'new-message' | 'browse' | 'invite' | null>(null)
  const [signingOut, setSigningOut] = useState(false)
  const [signOutError, setSignOutError] = useState<string | null>(null)

  const chat = chatId === null ? undefined : snapshot.chats.find((c) => c.id === chatId)
  const search = useCallback((params: SearchParams) => store.search(params), [store])
  const target = useMemo(
    () => (messageId ? (threadId ? { messageId, threadId } : { messageId }) : null),
    [messageId, threadId],
  )
  const unread = snapshot.chats.reduce((sum, c) => sum + (c.unread ?? 0), 0)
  useEffect(() => {
    const place = chat ? `${chatTitle(chat, snapshot.users, snapshot.me.id)} · Herald` : 'Herald'
    document.title = unread > 0 ? `(${unread}) ${place}` : place
  }, [chat, unread, snapshot.users, snapshot.me.id])
  const browse = useCallback(() => store.browseChannels(), [store])
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
  // A page other than a chat in the main area (/settings, /tasks/{id}).
  const accountApi = pagesApi && hasAccountApi(pagesApi) ? pagesApi : null
  const page =
    account && accountApi ? (
      <AccountSettings api={accountApi} me={snapshot.me} onUser={(user) => store.applyUserUpdated(user)} />
    ) : settings && pagesApi ? (
      <SettingsPage api={pagesApi} stream={stream} chats={snapshot.chats} users={snapshot.users} meId={snapshot.me.id} />
    ) : taskId !== null && pagesApi ? (
      <TaskPage
        key={taskId}
        api={pagesApi}
        stream={stream}
        taskId={taskId}
        users={snapshot.users}
        chats={snapshot.chats}
        meId={snapshot.me.id}
      />
    ) : adminSection !== null && adminApi ? (
      <AdminPage
        api={adminApi}
        stream={stream}
        monitorApi={monitorApi}
        section={adminSection}
        me={snapshot.me}
        users={snapshot.users}
        team={snapshot.team}
      />
    ) : null

  return (
    <div className={chatId === null && !page ? 'workspace' : 'workspace chat-open'}>
      {/* Above the sidebar; on narrow screens above whichever of sidebar and chat is shown, so
          the connection state is always in view. */}
      <header className="app-bar">
        {/* The team's icon and name, the sidebar's header (TEAM_UPDATED changes them live). */}
        <TeamBrand team={snapshot.team} />
        <SearchBox search={search} chats={snapshot.chats} users={snapshot.users} meId={snapshot.me.id} />
        <div className="app-bar-tools">
          {notifications && (
            <NotificationBell
              center={notifications.center}
              preferences={notifications.preferences}
              open={centerOpen}
              onOpenChange={setCenterOpen}
            />
          )}
          <ConnectionIndicator stream={stream} />
        </div>
      </header>
      <Sidebar
        me={snapshot.me}
        chats={snapshot.chats}
        users={snapshot.users}
        activeChatId={chatId}
        onNewChat={() => setDialog('new-chat')}
        onNewMessage={() => setDialog('new-message')}
        onBrowse={() => setDialog('browse')}
        onInvite={snapshot.me.role === 'admin' ? () => setDialog('invite') : undefined}
        onSignOut={() => void startSignOut()}
        settingsOpen={page !== null && (settings || account)}
        adminOpen={page !== null && adminSection !== null}
        mutedChats={mutedChats}
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
        {page ?? (chatId === null ? (
          <div className="empty-state">
            <h1>
              Welcome, <bdi>{snapshot.me.displayName || snapshot.me.username}</bdi>
            </h1>
            <p>
              {snapshot.chats.length === 0
                ? 'You are not in any chat yet. Start one with New chat.'
                : 'Pick a chat from the list, or start one with New chat.'}
            </p>
          </div>
        ) : (
          <ChatView
            key={chatId}
            store={store}
            snapshot={snapshot}
            chatId={chatId}
            stream={stream}
            notifications={notifications?.center}
            target={target}
          />
        ))}
      </main>
      {dialog === 'new-chat' && (
        <NewChatDialog
          people={others}
          createChat={(name, memberIds, options) => store.createChat(name, memberIds, options)}
          onCreated={(created) => {
            setDialog(null)
            navigate(chatPath(created.id))
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'new-message' && (
        <NewMessageDialog
          people={others}
          createDM={(userIds) => store.createDM(userIds)}
          onCreated={(created) => {
            setDialog(null)
            navigate(chatPath(created.id))
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'browse' && (
        <BrowseChannelsDialog
          browse={browse}
          join={(id) => store.joinChat(id)}
          onOpen={(id) => {
            setDialog(null)
            navigate(chatPath(id))
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'invite' && (
        <InviteDialog createInvite={createInvite} onClose={() => setDialog(null)} />
      )}
      {notifications && (
        <ToastProvider
          queue={notifications.toasts}
          onOpenCenter={() => setCenterOpen(true)}
          onRead={(ids) => void notifications.center.markRead(ids).catch(() => {})}
          person={(id) => snapshot.users[id]}
        />
      )}
    </div>
  )
}

function hasAccountApi<T extends Partial<AccountApi>>(api: T): api is T & AccountApi {
  return typeof api.updateProfile === 'function' && typeof api.listSessions === 'function'
}
