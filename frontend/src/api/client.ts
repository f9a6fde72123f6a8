import type {
  Account,
  ApiError,
  AuditEntry,
  ChannelInfo,
  Chat,
  ChatChange,
  ChatKind,
  ClusterStatus,
  Invite,
  Message,
  ErrorRecord,
  MonitorMinute,
  MonitorRange,
  StreamRecord,
  Totals,
  Notification,
  NotificationKind,
  Preferences,
  Silence,
  ProfilePatch,
  Role,
  Session as DeviceSession,
  Task,
  TeamSettings,
  User,
} from './types'

/** A request the server answered with an error status. code and message come from its body. */
export class ApiRequestError extends Error {
  readonly status: number
  readonly code: string

  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = 'ApiRequestError'
    this.status = status
    this.code = code
  }
}

export interface Session {
  user: User
  token: string
}

export interface RegisterParams {
  username: string
  password: string
  displayName?: string
  inviteCode?: string
}

/** What POST /api/chats takes besides the name and members. */
export interface NewChatOptions {
  /** Default private. */
  kind?: Exclude<ChatKind, 'dm'>
  topic?: string
}

export interface MessagePageParams {
  /** Only messages newer than this message ID. */
  after?: string
  /** Only messages older than this message ID. */
  before?: string
  /** limit messages centred on this one: the older half, it, the newer half. For a reply that is
   * only in its thread the page is centred on its parent. Not with after or before. */
  around?: string
  limit?: number
  /** From the server only, never a copy the service worker saved (see FreshOption). */
  fresh?: boolean
}

/**
 * fresh: the answer must come from the server. Without it, while the network is down the
 * offline shell's service worker may answer with a saved copy (src/sw/policy.ts); a caller that
 * asks in order to learn whether the server is reachable (the stream's polls) must not get one.
 */
export interface FreshOption {
  fresh?: boolean
}

export interface MessagePage {
  messages: Message[]
  /** Older messages exist. */
  hasMore: boolean
  /** Newer messages exist (only in the answer to an around request). */
  hasMoreAfter?: boolean
}

/** A reply's thread and whether it shows in the chat's history too (POST …/messages). */
export interface ReplyOptions {
  parentId?: string
  alsoToChat?: boolean
}

/** How postMessage posts: a reply (ReplyOptions), and with notifyAnyway. */
export interface PostOptions extends ReplyOptions {
  notifyAnyway?: boolean
}

/** GET /api/search: every field but q is optional. */
export interface SearchParams {
  /** Words (all must match; `word*` also as a prefix) and "quoted phrases". */
  q: string
  /** Only this chat (one of the caller's). */
  chatId?: string
  /** Only messages by this author (a user id). */
  from?: string
  /** Dates (YYYY-MM-DD, UTC) or Unix ms. */
  before?: string
  after?: string
  /** 1–50, default 20. */
  limit?: number
  /** The previous page's nextCursor. */
  cursor?: string
}

export interface SearchResult {
  message: Message
  chatId: string
  /** A short plain-text window of the message around the first match ("…" where cut). */
  snippet: string
}

/** Results newest first; nextCursor pages on when there are more. */
export interface SearchPage {
  results: SearchResult[]
  nextCursor?: string
}

/** A user as the directory lists them: online while they hold at least one event stream open. */
export interface DirectoryUser extends User {
  online: boolean
}

/** What a client needs to know before anyone signs in (GET /api/server, public). */
export interface ServerInfo {
  /** No account exists yet: the first registration creates the admin. */
  needsSetup: boolean
  /** Interval of the stream's keepalive comments (ms); the server jitters each by ±10 %. */
  keepaliveMs: number
  /**
   * SHA-256 fingerprint of the server's TLS certificate ('ab:cd:…'), when the server terminates
   * TLS itself and the page came over it.
   */
  tlsFingerprint?: string
}

/** A new registration link (POST /api/invites, admins only): maxUses people may register with it
 * until expiresAt. */
export interface NewInvite {
  id: string
  code: string
  maxUses: number
  /**
   * The join link, `<public URL>/join/<code>`; for a server with a self-signed certificate it
   * ends in `#sha256=<fingerprint>`.
   */
  url: string
  /** Unix ms. */
  expiresAt: number
}

/** POST /api/invites: maxUses 1–1000 (default 100), expiresInHours 1–720 (default 168). */
export interface InviteOptions {
  maxUses?: number
  expiresInHours?: number
}

/** GET /api/admin/users: q matches username or display name; after = the last id of a page. */
export interface AccountPageParams {
  q?: string
  after?: string
  /** 1–200, default 50. */
  limit?: number
}

export interface AccountPage {
  users: Account[]
  hasMore: boolean
}

/** POST /api/admin/users/{id}/password-reset: link is <public URL>/reset/<token>, works once. */
export interface PasswordResetLink {
  link: string
  /** Unix ms. */
  expiresAt: number
}

/** GET /api/admin/monitor: the totals, a page of the live streams (oldest first), the errors. */
export interface MonitorPage {
  totals: Totals
  streams: StreamRecord[]
  /** Streams open in all. */
  total: number
  hasMore: boolean
  errors: {
    byCategory: Record<string, number>
    /** The last 100, newest first. */
    recent: ErrorRecord[]
  }
  /** On a node of a cluster only. */
  cluster?: ClusterStatus
}

/** POST /api/admin/monitor/watch: MONITOR_TICK every intervalMs until `until` (Unix ms). */
export interface MonitorWatch {
  until: number
  intervalMs: number
}

/** The live streams as CSV (admins; a link, so the browser downloads it). */
export const MONITOR_STREAMS_CSV = '/api/admin/monitor/streams.csv'

/** The monitor's minutes over range as CSV (admins). */
export function monitorHistoryCsv(range: MonitorRange): string {
  return `/api/admin/monitor/history.csv?range=${range}`
}

export interface AuditPage {
  entries: AuditEntry[]
  /** Older entries exist. */
  hasMore: boolean
}

/** GET /api/bots: a bot and its tokens' metadata. */
export interface BotEntry {
  bot: User
  tokens: { id: string; userId: string; createdAt: string; expiresAt: string }[]
}

/** A page of GET /api/notifications (newest first). */
export interface NotificationPageParams {
  unread?: boolean
  type?: NotificationKind
  /** A case-insensitive substring of title or body. */
  q?: string
  /** Only entries older than this notification id. */
  before?: string
  limit?: number
}

export interface NotificationPage {
  notifications: Notification[]
  hasMore: boolean
}

/**
 * The desktop app's answer to a message post while the team server cannot be reached (202): the
 * app stored the message in its own durable outbox and delivers it when the server is back; the
 * NEW_MESSAGE that follows carries the same clientId.
 */
export interface QueuedPost {
  queued: true
  message: { chatId: string; content: string; clientId: string; createdAt: number }
}

/** What postMessage resolves to: the stored message, or the desktop app's queued post. */
export type PostResult = Message | QueuedPost

export function isQueuedPost(result: unknown): result is QueuedPost {
  return typeof result === 'object' && result !== null && 'queued' in result && result.queued === true
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** How long a request may go unanswered (ms). */
export const REQUEST_TIMEOUT_MS = 20_000

/** Where a 401 means wrong credentials, not a session that ended. */
const SIGN_IN_PATHS = new Set(['/api/auth/login', '/api/auth/register'])

/** The Herald REST API, as seen from a page served by the same origin (the session is a cookie). */
export class ApiClient {
  private readonly baseUrl: string
  private readonly unauthorizedListeners = new Set<() => void>()

  /** baseUrl prefixes every path; '' means the page's own origin. */
  constructor(baseUrl = '') {
    this.baseUrl = baseUrl
  }

  /**
   * Calls listener whenever a request other than sign-in and registration is answered 401: the
   * session ended (signed out in another tab, expired, revoked). It is called before that request
   * rejects. Returns the unsubscribe.
   */
  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener)
    return () => {
      this.unauthorizedListeners.delete(listener)
    }
  }

  async me(): Promise<User> {
    const { user } = await this.request<{ user: User }>('GET', '/api/me')
    return user
  }

  login(username: string, password: string): Promise<Session> {
    return this.request<Session>('POST', '/api/auth/login', { username, password })
  }

  register(params: RegisterParams): Promise<Session> {
    return this.request<Session>('POST', '/api/auth/register', params)
  }

  async logout(): Promise<void> {
    await this.send('POST', '/api/auth/logout')
  }

  serverInfo(): Promise<ServerInfo> {
    return this.request<ServerInfo>('GET', '/api/server')
  }

  /** Creates an invite; without options the server's defaults: 100 uses, 7 days. */
  createInvite(options: InviteOptions = {}): Promise<NewInvite> {
    return this.request<NewInvite>('POST', '/api/invites', options)
  }

  /** Active invites, newest first, without their codes (admins). */
  async listInvites(): Promise<Invite[]> {
    const { invites } = await this.request<{ invites: Invite[] }>('GET', '/api/invites')
    return invites
  }

  async revokeInvite(inviteId: string): Promise<void> {
    await this.send('DELETE', `/api/invites/${encodeURIComponent(inviteId)}`)
  }

  /** Every account, bots and deactivated ones too, in registration order (admins). */
  listAccounts({ q, after, limit }: AccountPageParams = {}): Promise<AccountPage> {
    const query = new URLSearchParams()
    if (q) query.set('q', q)
    if (after) query.set('after', after)
    if (limit !== undefined) query.set('limit', String(limit))
    const search = query.toString()
    return this.request<AccountPage>('GET', `/api/admin/users${search ? `?${search}` : ''}`)
  }

  /** 409 demoting the last active admin; 400 making a bot admin. */
  async setRole(userId: string, role: Role): Promise<User> {
    const { user } = await this.request<{ user: User }>('PATCH', adminUserPath(userId), { role })
    return user
  }

  /** Deactivates (409 yourself or the last active admin) or reactivates the account. */
  async setDeactivated(userId: string, deactivated: boolean): Promise<User> {
    const action = deactivated ? 'deactivate' : 'reactivate'
    const { user } = await this.request<{ user: User }>('POST', `${adminUserPath(userId)}/${action}`)
    return user
  }

  /** A one-time link that sets the account's password, valid 24 h (409 a bot or deactivated). */
  createPasswordReset(userId: string): Promise<PasswordResetLink> {
    return this.request<PasswordResetLink>('POST', `${adminUserPath(userId)}/password-reset`)
  }

  /** Sets a new password with a reset link's token (no session needed); 403 for a token that is
   * unknown, used or expired. */
  async resetPassword(token: string, newPassword: string): Promise<void> {
    await this.send('POST', '/api/auth/password-reset', { token, newPassword })
  }

  /** The audit log, newest first; before pages back (the previous page's last id). */
  listAudit(before?: string): Promise<AuditPage> {
    const query = before ? `?${new URLSearchParams({ before }).toString()}` : ''
    return this.request<AuditPage>('GET', `/api/admin/audit${query}`)
  }

  /** The monitor (admins): offset and limit (1–200, default 50) page the live streams. */
  getMonitor({ offset, limit }: { offset?: number; limit?: number } = {}): Promise<MonitorPage> {
    const query = new URLSearchParams()
    if (offset) query.set('offset', String(offset))
    if (limit !== undefined) query.set('limit', String(limit))
    const search = query.toString()
    return this.request<MonitorPage>('GET', `/api/admin/monitor${search ? `?${search}` : ''}`)
  }

  /** The monitor's minutes over range, oldest first (admins). */
  async getMonitorHistory(range: MonitorRange): Promise<MonitorMinute[]> {
    const { minutes } = await this.request<{ minutes: MonitorMinute[] }>('GET', `/api/admin/monitor/history?range=${range}`)
    return minutes
  }

  /** Starts or renews the 60 s lease on MONITOR_TICK (admins; 429 when 100 admins watch). */
  watchMonitor(): Promise<MonitorWatch> {
    return this.request<MonitorWatch>('POST', '/api/admin/monitor/watch')
  }

  /** Ends the lease: no more MONITOR_TICK. */
  async unwatchMonitor(): Promise<void> {
    await this.send('DELETE', '/api/admin/monitor/watch')
  }

  async getTeam(): Promise<TeamSettings> {
    const { team } = await this.request<{ team: TeamSettings }>('GET', '/api/team')
    return team
  }

  /** Changes the named settings (admins); everyone gets TEAM_UPDATED. */
  async updateTeam(change: Partial<TeamSettings>): Promise<TeamSettings> {
    const { team } = await this.request<{ team: TeamSettings }>('PATCH', '/api/team', change)
    return team
  }

  /** Uploads the team's icon (PNG, JPEG or GIF as the body; 413 beyond 5 MiB, 415 or 400 for
   * what the server cannot read); everyone gets TEAM_UPDATED with its iconUrl. */
  async uploadTeamIcon(image: Blob): Promise<TeamSettings> {
    const { team } = await this.request<{ team: TeamSettings }>('PUT', '/api/team/icon', image)
    return team
  }

  /** Removes the team's icon, uploaded or an https URL. */
  async deleteTeamIcon(): Promise<TeamSettings> {
    const { team } = await this.request<{ team: TeamSettings }>('DELETE', '/api/team/icon')
    return team
  }

  /** Adds a bot (admins); its token is in this answer only. avatar: an emoji or an https URL. */
  createBot(name: string, avatar?: string): Promise<{ bot: User; token: string }> {
    return this.request('POST', '/api/bots', avatar ? { name, avatar } : { name })
  }

  /** The team's bots with their tokens' metadata (never the tokens). */
  async listBots(): Promise<BotEntry[]> {
    const { bots } = await this.request<{ bots: BotEntry[] }>('GET', '/api/bots')
    return bots
  }

  async updateBot(botId: string, change: { displayName?: string; avatar?: string }): Promise<User> {
    const { bot } = await this.request<{ bot: User }>('PATCH', botPath(botId), change)
    return bot
  }

  /** A new token, shown once; every other token of the bot ends. */
  rotateBotToken(botId: string): Promise<{ bot: User; token: string; revoked: number }> {
    return this.request('POST', `${botPath(botId)}/token`)
  }

  /** Ends every token of the bot, with its streams. */
  revokeBotTokens(botId: string): Promise<{ revoked: number }> {
    return this.request('DELETE', `${botPath(botId)}/token`)
  }

  /** Deactivates the bot for good: its tokens end, its messages stay. */
  async deleteBot(botId: string): Promise<void> {
    await this.send('DELETE', botPath(botId))
  }

  async listUsers(): Promise<DirectoryUser[]> {
    const { users } = await this.request<{ users: DirectoryUser[] }>('GET', '/api/users')
    return users
  }

  async listChats({ fresh }: FreshOption = {}): Promise<Chat[]> {
    const { chats } = await this.request<{ chats: Chat[] }>('GET', '/api/chats', undefined, { fresh })
    return chats
  }

  /** Creates a channel or private chat (private when kind is absent) owned by the caller; 409
   * when a chat of that name exists in any letter case. */
  async createChat(name: string, memberIds: string[], options: NewChatOptions = {}): Promise<Chat> {
    const body: Record<string, unknown> = { name, memberIds }
    if (options.kind !== undefined) body.kind = options.kind
    if (options.topic) body.topic = options.topic
    const { chat } = await this.request<{ chat: Chat }>('POST', '/api/chats', body)
    return chat
  }

  /** Every channel that is not archived, the caller's own flagged joined. */
  async browseChannels(): Promise<ChannelInfo[]> {
    const { channels } = await this.request<{ channels: ChannelInfo[] }>('GET', '/api/chats/browse')
    return channels
  }

  /** Joins a channel (403 for other kinds, 409 archived); a member already: the chat, unchanged. */
  async joinChat(chatId: string): Promise<Chat> {
    const { chat } = await this.request<{ chat: Chat }>('POST', `${chatPath(chatId)}/join`)
    return chat
  }

  /** Leaves the chat; a DM is hidden from the caller's list instead, until its next message. */
  async leaveChat(chatId: string): Promise<void> {
    await this.send('POST', `${chatPath(chatId)}/leave`)
  }

  /** Removes someone from the chat (its owners and admins; a DM: 400). */
  async removeMember(chatId: string, userId: string): Promise<Chat> {
    const path = `${chatPath(chatId)}/members/${encodeURIComponent(userId)}`
    const { chat } = await this.request<{ chat: Chat }>('DELETE', path)
    return chat
  }

  /** Renames, sets the topic, archives or unarchives, or names the owners (owners and admins). */
  async updateChat(chatId: string, change: ChatChange): Promise<Chat> {
    const { chat } = await this.request<{ chat: Chat }>('PATCH', chatPath(chatId), change)
    return chat
  }

  /** The DM of the caller and userIds (2 to 8 people in all), created if there is none. */
  async createDM(userIds: string[]): Promise<Chat> {
    const { chat } = await this.request<{ chat: Chat }>('POST', '/api/dms', { userIds })
    return chat
  }

  /** The chat itself, without the caller's unread count or read marker (those are only in listChats). */
  async getChat(chatId: string): Promise<Chat> {
    const { chat } = await this.request<{ chat: Chat }>('GET', chatPath(chatId))
    return chat
  }

  /** Adds userId to the chat (any member may) and returns the chat with its new member list. */
  async addMember(chatId: string, userId: string): Promise<Chat> {
    const { chat } = await this.request<{ chat: Chat }>('POST', `${chatPath(chatId)}/members`, { userId })
    return chat
  }

  /** A page of the chat's history (top-level messages, tombstones, replies also sent to the
   * chat), oldest first. */
  listMessages(chatId: string, params: MessagePageParams = {}): Promise<MessagePage> {
    return this.request<MessagePage>('GET', `${chatPath(chatId)}/messages${pageQuery(params)}`, undefined, {
      fresh: params.fresh,
    })
  }

  /** A page of a thread's replies, oldest first, paged like history (404 for an unknown parent). */
  listReplies(
    chatId: string,
    parentId: string,
    { after, before, limit }: Omit<MessagePageParams, 'around'> = {},
  ): Promise<MessagePage> {
    const path = `${messagePath(chatId, parentId)}/replies${pageQuery({ after, before, limit })}`
    return this.request<MessagePage>('GET', path)
  }

  /** The stored message (201, or 200 for a clientId the server already had), or, in the desktop
   * app while the team server is unreachable, the app's word that it queued the message (202).
   * With parentId it is a reply in that message's thread (alsoToChat: in the chat's history
   * too). notifyAnyway: notify recipients during their quiet hours as far as they let it. */
  async postMessage(
    chatId: string,
    content: string,
    clientId: string,
    { parentId, alsoToChat, notifyAnyway }: PostOptions = {},
  ): Promise<PostResult> {
    const body: Record<string, unknown> = { content, clientId }
    if (parentId !== undefined) body.parentId = parentId
    if (parentId !== undefined && alsoToChat) body.alsoToChat = true
    if (notifyAnyway) body.notifyAnyway = true
    const response = await this.send('POST', `${chatPath(chatId)}/messages`, body)
    const answer: unknown = await response.json()
    if (response.status === 202 && isQueuedPost(answer)) return answer
    return (answer as { message: Message }).message
  }

  /** Replaces the content of the caller's own message (403 someone else's, 409 deleted) and
   * returns it with editedAt set. */
  async editMessage(chatId: string, messageId: string, content: string): Promise<Message> {
    const { message } = await this.request<{ message: Message }>('PATCH', messagePath(chatId, messageId), {
      content,
    })
    return message
  }

  /** Deletes a message (its author, or an admin): it becomes a tombstone for everyone. */
  async deleteMessage(chatId: string, messageId: string): Promise<void> {
    await this.send('DELETE', messagePath(chatId, messageId))
  }

  /** Adds the caller's reaction (one emoji; idempotent). 409 beyond 20 emoji or on a tombstone. */
  async addReaction(chatId: string, messageId: string, emoji: string): Promise<void> {
    await this.send('PUT', reactionPath(chatId, messageId, emoji))
  }

  /** Removes the caller's reaction (idempotent). */
  async removeReaction(chatId: string, messageId: string, emoji: string): Promise<void> {
    await this.send('DELETE', reactionPath(chatId, messageId, emoji))
  }

  /** Pins a message to its chat (idempotent; 409 a tombstone or beyond 100 pins). */
  async pinMessage(chatId: string, messageId: string): Promise<void> {
    await this.send('PUT', `${chatPath(chatId)}/pins/${encodeURIComponent(messageId)}`)
  }

  async unpinMessage(chatId: string, messageId: string): Promise<void> {
    await this.send('DELETE', `${chatPath(chatId)}/pins/${encodeURIComponent(messageId)}`)
  }

  /** The chat's pinned messages, most recently pinned first. */
  async listPins(chatId: string): Promise<Message[]> {
    const { messages } = await this.request<{ messages: Message[] }>('GET', `${chatPath(chatId)}/pins`)
    return messages
  }

  /** Messages of the caller's chats matching q, newest first. */
  search({ q, chatId, from, before, after, limit, cursor }: SearchParams): Promise<SearchPage> {
    const query = new URLSearchParams({ q })
    if (chatId) query.set('chatId', chatId)
    if (from) query.set('from', from)
    if (before) query.set('before', before)
    if (after) query.set('after', after)
    if (limit !== undefined) query.set('limit', String(limit))
    if (cursor) query.set('cursor', cursor)
    return this.request<SearchPage>('GET', `/api/search?${query.toString()}`)
  }

  /** Moves the caller's read marker in the chat to messageId. */
  async markRead(chatId: string, messageId: string): Promise<void> {
    await this.send('POST', `${chatPath(chatId)}/read`, { messageId })
  }

  /** Tells the chat's other members that the caller is typing (an ephemeral event, not stored),
   * in the thread of parentId when given. */
  async typing(chatId: string, parentId?: string): Promise<void> {
    await this.send('POST', `${chatPath(chatId)}/typing`, parentId === undefined ? undefined : { parentId })
  }

  /** The caller's notification history, newest first, filtered by the params. */
  listNotifications({ unread, type, q, before, limit }: NotificationPageParams = {}): Promise<NotificationPage> {
    const query = new URLSearchParams()
    if (unread) query.set('unread', 'true')
    if (type !== undefined) query.set('type', type)
    if (q !== undefined && q !== '') query.set('q', q)
    if (before !== undefined) query.set('before', before)
    if (limit !== undefined) query.set('limit', String(limit))
    const search = query.toString()
    return this.request<NotificationPage>('GET', `/api/notifications${search ? `?${search}` : ''}`)
  }

  /** Marks the listed notifications read, or every one with 'all'. */
  async markNotificationsRead(ids: string[] | 'all'): Promise<void> {
    await this.send('POST', '/api/notifications/read', ids === 'all' ? { all: true } : { ids })
  }

  async markNotificationsUnread(ids: string[]): Promise<void> {
    await this.send('POST', '/api/notifications/unread', { ids })
  }

  /** Deletes the caller's whole notification history. */
  async clearNotifications(): Promise<void> {
    await this.send('DELETE', '/api/notifications')
  }

  /** Which of userIds (in a DM: by default its other members) are in do not disturb or quiet
   * hours now, until when on their clock, and whether notify anyway reaches them. Members of the
   * chat only; at most 20 ids (GET /api/chats/{chatId}/quiet). */
  async getQuiet(chatId: string, userIds?: readonly string[]): Promise<Silence[]> {
    const query = userIds && userIds.length > 0 ? `?userIds=${userIds.map(encodeURIComponent).join(',')}` : ''
    const { quiet } = await this.request<{ quiet: Silence[] }>('GET', `${chatPath(chatId)}/quiet${query}`)
    return quiet
  }

  async getPreferences(): Promise<Preferences> {
    const { preferences } = await this.request<{ preferences: Preferences }>('GET', '/api/preferences')
    return preferences
  }

  /** Replaces the caller's preferences (400 if invalid) and returns what the server stored. */
  async putPreferences(preferences: Preferences): Promise<Preferences> {
    const { preferences: stored } = await this.request<{ preferences: Preferences }>(
      'PUT',
      '/api/preferences',
      preferences,
    )
    return stored
  }

  async getTask(taskId: string): Promise<Task> {
    const { task } = await this.request<{ task: Task }>('GET', `/api/tasks/${encodeURIComponent(taskId)}`)
    return task
  }

  /** Changes the caller's own profile (PATCH /api/me); absent fields stay. */
  async updateProfile(patch: ProfilePatch): Promise<User> {
    const { user } = await this.request<{ user: User }>('PATCH', '/api/me', patch)
    return user
  }

  async deleteAvatar(): Promise<User> {
    const { user } = await this.request<{ user: User }>('DELETE', '/api/me/avatar')
    return user
  }

  /** The caller's signed-in devices, oldest first; total counts them all (at most 200 listed). */
  async listSessions(): Promise<{ sessions: DeviceSession[]; total: number }> {
    return this.request<{ sessions: DeviceSession[]; total: number }>('GET', '/api/sessions')
  }

  async endSession(sessionId: string): Promise<void> {
    await this.send('DELETE', `/api/sessions/${encodeURIComponent(sessionId)}`)
  }

  /** Ends every other session of the caller; answers how many ended. */
  async revokeOtherSessions(): Promise<number> {
    const { revoked } = await this.request<{ revoked: number }>('POST', '/api/sessions/revoke-others')
    return revoked
  }

  /** Changes the password (403 when currentPassword is wrong); every other session ends. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.send('POST', '/api/me/password', { currentPassword, newPassword })
  }

  /** Reports the user idle (away) or back; answers their presence as the server has it. */
  async setAway(away: boolean): Promise<string> {
    const { status } = await this.request<{ status: string }>('PUT', '/api/me/presence', { away })
    return status
  }

  private async request<T>(method: Method, path: string, body?: unknown, options: FreshOption = {}): Promise<T> {
    const response = await this.send(method, path, body, options)
    return (await response.json()) as T
  }

  /** Sends one request and returns its response if it succeeded, else throws ApiRequestError.
   * A request unanswered after REQUEST_TIMEOUT_MS fails with a TimeoutError DOMException, like a
   * network failure, so that a hung connection cannot hold up the outbox forever. */
  private async send(method: Method, path: string, body?: unknown, { fresh }: FreshOption = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    const init: RequestInit = {
      method,
      headers,
      credentials: 'same-origin',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }
    // The service worker (and the HTTP cache) answer a no-store request from the network only.
    if (fresh) init.cache = 'no-store'
    if (body instanceof Blob) {
      // An upload: the bytes as they are, typed as the file is.
      if (body.type) headers['Content-Type'] = body.type
      init.body = body
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    const response = await fetch(this.baseUrl + path, init)
    if (!response.ok) {
      const error = await toRequestError(response)
      if (response.status === 401 && !SIGN_IN_PATHS.has(path)) {
        for (const listener of [...this.unauthorizedListeners]) listener()
      }
      throw error
    }
    return response
  }
}

function chatPath(chatId: string): string {
  return `/api/chats/${encodeURIComponent(chatId)}`
}

function adminUserPath(userId: string): string {
  return `/api/admin/users/${encodeURIComponent(userId)}`
}

function botPath(botId: string): string {
  return `/api/bots/${encodeURIComponent(botId)}`
}

function messagePath(chatId: string, messageId: string): string {
  return `${chatPath(chatId)}/messages/${encodeURIComponent(messageId)}`
}

/** The emoji is one path segment: every byte of its UTF-8 escaped (ZWJ sequences, flags). */
function reactionPath(chatId: string, messageId: string, emoji: string): string {
  return `${messagePath(chatId, messageId)}/reactions/${encodeURIComponent(emoji)}`
}

function pageQuery({ after, before, around, limit }: MessagePageParams): string {
  const query = new URLSearchParams()
  if (after !== undefined) query.set('after', after)
  if (before !== undefined) query.set('before', before)
  if (around !== undefined) query.set('around', around)
  if (limit !== undefined) query.set('limit', String(limit))
  const search = query.toString()
  return search ? `?${search}` : ''
}

async function toRequestError(response: Response): Promise<ApiRequestError> {
  // A body that is not the API's error JSON comes from something in front of the API (a proxy, a
  // crashed server): report the bare HTTP status.
  const body: unknown = await response.json().catch(() => undefined)
  if (isApiError(body)) {
    return new ApiRequestError(response.status, body.error.code, body.error.message)
  }
  return new ApiRequestError(response.status, 'http_error', response.statusText || `HTTP ${response.status}`)
}

function isApiError(body: unknown): body is ApiError {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false
  const { error } = body
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    'message' in error &&
    typeof error.message === 'string'
  )
}

/** A message for an error thrown by ApiClient, fit to show the user. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
