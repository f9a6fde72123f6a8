// The JSON shapes of the Herald server API (backend/herald.go). Times are Unix milliseconds.

export type Role = 'admin' | 'member'

export interface User {
  id: string
  username: string
  displayName: string
  role: Role
  createdAt: number
  /** Presence; absent means offline. */
  status?: AgentStatus
  /** Bots only. */
  kind?: 'bot'
  /** A bot's avatar: an https URL or a short text such as an emoji. */
  avatar?: string
  /** Switched off by an admin; their messages stay. */
  deactivated?: boolean
  /** The status line a person sets (issue 11); statusExpiresAt (Unix ms, absent: never) is when
   * it reads as cleared. */
  statusText?: string
  statusEmoji?: string
  statusExpiresAt?: number
  /** Where an uploaded avatar is served (`/api/users/{id}/avatar?v=N`; add `&size=64|256`);
   * absent without one: draw the initials on avatarColor. */
  avatarUrl?: string
  avatarVersion?: number
  /** `#rrggbb`, stable per user id. */
  avatarColor?: string
}

/** The server's profile limits (backend/profile.go). */
export const MAX_STATUS_TEXT_LEN = 100
export const MAX_AVATAR_UPLOAD = 5 << 20
export const AVATAR_SIZES = [64, 256] as const
/** A display name, a bot's too (backend.MaxDisplayNameLen, characters). */
export const MAX_DISPLAY_NAME_LEN = 64
/** A bot's avatar (backend.CheckAvatar): an https URL of at most this many bytes, or a text of
 * at most MAX_AVATAR_TEXT_LEN characters without ':', '/' or '\\'. */
export const MAX_AVATAR_URL_LEN = 512
export const MAX_AVATAR_TEXT_LEN = 16

/** The fields PATCH /api/me changes (backend.ProfilePatch); absent fields stay.
 * statusExpiresAt 0 or null: the status does not expire. */
export interface ProfilePatch {
  displayName?: string
  statusText?: string
  statusEmoji?: string
  statusExpiresAt?: number | null
}

/** A signed-in device of the caller (GET /api/sessions; backend.Session). Times are RFC 3339. */
export interface Session {
  id: string
  device?: string
  ip?: string
  createdAt: string
  lastSeenAt?: string
  expiresAt: string
  /** The caller's own session. */
  current?: boolean
}

/** What sort of conversation a chat is (backend.ChatKind): a channel the team finds and joins, a
 * private chat whose members add people, or a direct message between a fixed set of people. */
export type ChatKind = 'channel' | 'private' | 'dm'

export interface Chat {
  id: string
  kind: ChatKind
  /** Unique among channels and private chats in any letter case; "" for a DM. */
  name: string
  /** "" when none. */
  topic: string
  memberIds: string[]
  /** Manage the chat with the admins; the creator is the first. [] for a DM. */
  ownerIds: string[]
  /** Read-only until unarchived. */
  archived: boolean
  createdBy: string
  createdAt: number
  /** Messages by other members after the caller's read marker, capped at 999. Only in chat lists. */
  unread?: number
  /** The caller's unread mentions there (threads included). Only in chat lists. */
  mentions?: number
  /** The caller's read marker. Only in chat lists. */
  lastReadId?: string
  lastMessageId?: string
  /** A DM the caller left (hid) until its next message. */
  hidden?: boolean
}

/** A channel as GET /api/chats/browse lists it (backend.ChannelInfo). */
export interface ChannelInfo {
  id: string
  name: string
  topic?: string
  ownerIds: string[]
  createdAt: number
  memberCount: number
  /** The caller is a member. */
  joined: boolean
}

/** A PATCH of a chat (backend.ChatChange): absent fields stay as they are. ownerIds replaces the
 * owners. */
export interface ChatChange {
  name?: string
  topic?: string
  archived?: boolean
  ownerIds?: string[]
}

/** Limits of chats (backend.MaxChatNameLen, MaxTopicLen, MaxDMMembers). */
export const MAX_CHAT_NAME_LEN = 80
export const MAX_TOPIC_LEN = 250
/** People in one DM, its creator included. */
export const MAX_DM_MEMBERS = 8

export interface Message {
  id: string
  chatId: string
  authorId: string
  content: string
  /** The sender's idempotency key: posting twice with the same one creates one message. */
  clientId?: string
  createdAt: number
  /** The processed file a file message carries. */
  attachment?: FileInfo
  /** A reply: the top-level message of the same chat whose thread it belongs to. */
  parentId?: string
  /** A reply that is also shown in the chat's own history ("also send to the chat"). */
  alsoToChat?: boolean
  /** When the author last changed content (Unix ms); absent if never. */
  editedAt?: number
  /** A tombstone: the message was deleted, its content, attachment, reactions and pin are gone
   * (content is ""). Id, chat, author, parent, time and the thread counts remain. */
  deleted?: boolean
  /** A top-level message's thread: its replies that are not deleted, and when the newest was
   * posted (Unix ms). */
  replyCount?: number
  lastReplyAt?: number
  /** The emoji members reacted with, in the order each was first used. */
  reactions?: Reaction[]
  /** Pinned to its chat (GET /api/chats/{chatId}/pins). */
  pinned?: boolean
}

/** One emoji on a message and who reacted with it (backend.Reaction). */
export interface Reaction {
  emoji: string
  /** userIds.length: shown without counting. */
  count: number
  /** The members who reacted, in the order they did. */
  userIds: string[]
}

/** An uploaded file as the server describes it (GET /api/files/{id} serves its bytes). */
export interface FileInfo {
  id: string
  chatId: string
  uploaderId: string
  name: string
  /** Bytes. */
  size: number
  mime?: string
  status: 'processing' | 'ready' | 'failed'
  error?: string
  sha256?: string
  width?: number
  height?: number
  thumbnail?: boolean
  preview?: string
  createdAt: number
}

export type EventType =
  | 'NEW_MESSAGE'
  | 'TASK_COMPLETED'
  | 'AGENT_STATUS_CHANGED'
  | 'SYSTEM_NOTIFICATION'
  | 'FILE_PROCESSED'
  | 'FILE_UPLOAD_PROGRESS'
  | 'TYPING'
  | 'CHAT_UPDATED'
  | 'CHAT_MEMBER_ADDED'
  | 'CHAT_MEMBER_REMOVED'
  | 'CHAT_HIDDEN'
  | 'RESYNC'
  | 'PREFERENCES_CHANGED'
  | 'MENTION'
  | 'NOTIFICATION'
  | 'SESSION_ENDED'
  | 'MESSAGE_UPDATED'
  | 'MESSAGE_DELETED'
  | 'READ_MARKER'
  | 'USER_UPDATED'
  | 'TEAM_UPDATED'
  | 'MONITOR_TICK'

/** Why SESSION_ENDED ended the session (backend.Session* in Go). */
export type SessionEndReason = 'signed_out' | 'expired' | 'password_changed' | 'revoked' | 'deactivated'

/** One item of the server's event stream. Which optional fields are set depends on type. */
/** online while a member has a stream open (offline 30 s after the last closes); bots set
 * their own. */
export type AgentStatus = 'online' | 'busy' | 'away' | 'offline'

/** Whose status an AGENT_STATUS_CHANGED event reports. */
export interface Agent {
  id: string
  name: string
  avatar?: string
  kind: 'user' | 'bot'
}

export interface Event {
  id?: string
  type: EventType
  timestamp: number
  chatId?: string
  /** NEW_MESSAGE, MESSAGE_UPDATED (the message's whole new state), MENTION. */
  message?: Message
  /** MESSAGE_DELETED (the message that is a tombstone now) and READ_MARKER (where the reader's
   * marker moved to). */
  messageId?: string
  /** The thread of a deleted reply (MESSAGE_DELETED) or of a thread's composer (TYPING). */
  parentId?: string
  chat?: Chat
  userId?: string
  agent?: Agent
  status?: AgentStatus
  /** The recipient's history entry with the server's decision (NOTIFICATION, MENTION,
   * TASK_COMPLETED, SYSTEM_NOTIFICATION, FILE_PROCESSED). Its id is the event's. */
  notification?: Notification
  /** TASK_COMPLETED. */
  task?: Task
  /** FILE_PROCESSED. */
  file?: FileInfo
  /** PREFERENCES_CHANGED. */
  preferences?: Preferences
  /** FILE_UPLOAD_PROGRESS (ephemeral, to the uploader). */
  upload?: UploadProgress
  /** SESSION_ENDED: the stream's last frame; the session's requests now answer 401. */
  reason?: SessionEndReason
  /** USER_UPDATED: the user's new public state (profile, role, deactivation). */
  user?: User
  /** TEAM_UPDATED: the team's new settings. */
  team?: TeamSettings
  /** MONITOR_TICK (ephemeral, to admins watching the dashboard, every 2 s): the monitor's totals. */
  monitor?: Totals
}

/** Bytes of an upload the server has received so far; total is −1 when unknown. */
export interface UploadProgress {
  name: string
  loaded: number
  total: number
}

/** What a notification is about; each kind can be switched off and given its own sound. */
export type NotificationKind = 'message' | 'mention' | 'reply' | 'task' | 'agent' | 'system' | 'file'

export type SystemLevel = 'info' | 'warning' | 'critical'

/** One entry of the user's notification history, with the server's decision for them. */
export interface Notification {
  /** The id of the event that delivered it. */
  id: string
  type: NotificationKind
  title: string
  body: string
  /** A path in the web client: /chats/{id} or /tasks/{id}. */
  link?: string
  /** System notifications only. */
  level?: SystemLevel
  chatId?: string
  /** Whoever it is about (a message's author, a bot, the creator of someone else's task): the
   * avatar toasts and browser notifications show. Absent for system notifications. */
  actorId?: string
  /** The message it is about (kinds message, mention, reply): deleting the message removes the
   * notification, reading the chat marks it read. */
  messageId?: string
  /** The thread of a reply (kind reply). */
  parentId?: string
  createdAt: number
  read: boolean
  /** false: recorded silently (no toast, sound or browser notification); reason says why. */
  notify: boolean
  reason: string
  /** It notified during do not disturb or quiet hours because its sender chose "Notify anyway"
   * and the user lets them (Preferences.breakThrough); reason says who. */
  brokeThrough?: boolean
}

/** Whose "Notify anyway" notifies the user during do not disturb and quiet hours (backend
 * BreakThrough): nobody, people in DMs, or also people mentioning them anywhere. */
export type BreakThrough = 'off' | 'dms' | 'always'

/** What keeps a member from being notified (backend SilenceReason). */
export type SilenceReason = 'doNotDisturb' | 'quietHours'

/** A member who would not be notified now, as a sender may know it (backend Silence,
 * GET /api/chats/{chatId}/quiet). */
export interface Silence {
  userId: string
  reason: SilenceReason
  /** When it ends (Unix ms); absent for do not disturb without an end. */
  until?: number
  /** until on the member's own clock, "07:00". */
  untilLocal?: string
  /** Whether a message sent with notifyAnyway would notify them. */
  notifyAnyway: boolean
}

/** A user's notification settings (GET/PUT /api/preferences). The server applies them. */
export interface Preferences {
  sounds: boolean
  /** 0..1 */
  volume: number
  /** A sound name per kind; a missing kind uses the client's default. */
  soundByKind: Partial<Record<NotificationKind, string>>
  /** OS and browser notifications. */
  native: boolean
  /** A missing kind is on. */
  kinds: Partial<Record<NotificationKind, boolean>>
  mutedChats: string[]
  /** On until `until` (RFC 3339), or indefinitely when until is absent; null/absent is off. */
  doNotDisturb?: { until?: string } | null
  quietHours?: { start: string; end: string; timeZone: string } | null
  criticalBreaksThrough: boolean
  /** How long a toast stays on screen, in whole seconds (2–60; the server's default is 6).
   * Critical alerts stay until dismissed. */
  toastSeconds: number
  /** "Let people break through my quiet hours"; the server's default is 'off'. */
  breakThrough: BreakThrough
}

export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'failed'

/** A piece of work a bot or person runs for its owner (GET /api/tasks/{id}). */
export interface Task {
  id: string
  name: string
  status: TaskStatus
  result?: string
  ownerId: string
  /** Who created it (the server's field; some docs say creatorId). */
  createdBy?: string
  creatorId?: string
  chatId?: string
  createdAt: number
  completedAt?: number
}

/** The body of every error response. */
export interface ApiError {
  error: {
    code: string
    message: string
  }
}

// Admin: people, invites, audit, team settings (backend/admin.go).

/** Who may create channels (backend.ChannelCreation). */
export type ChannelCreation = 'everyone' | 'admins'

/** The team-wide settings an admin changes (GET/PATCH /api/team; backend.TeamSettings). */
export interface TeamSettings {
  /** 1–80 characters; "Herald" until an admin changes it. */
  name: string
  /** An https URL; absent when none. */
  iconUrl?: string
  channelCreation: ChannelCreation
}

/** A user as the admin list shows them (backend.Account, with presence). */
export interface Account extends User {
  online: boolean
  /** When the account last went offline (Unix ms); absent if never recorded. */
  lastSeenAt?: number
}

/** A registration link (backend.Invite). Listings carry hint (the code's first characters),
 * never the code; maxUses people may register with it until expiresAt. */
export interface Invite {
  id: string
  code?: string
  hint?: string
  createdBy: string
  createdAt: number
  expiresAt: number
  maxUses: number
  uses: number
}

/** One admin action in the audit log (backend.AuditEntry). action is one of AUDIT_ACTIONS. */
export interface AuditEntry {
  id: string
  actorId: string
  action: string
  /** The user, bot or invite acted on; absent for team settings. */
  targetId?: string
  /** Short facts (the new role, an invite's uses), never secrets. */
  details?: Record<string, string>
  createdAt: number
}

/** Limits of the admin features (backend/admin.go). */
export const DEFAULT_INVITE_MAX_USES = 100
export const MAX_INVITE_USES = 1000
export const MAX_INVITE_HOURS = 720
export const MAX_TEAM_NAME_LEN = 80
/** How long a password-reset link works (ms; backend.PasswordResetTTL). */
export const PASSWORD_RESET_TTL_MS = 24 * 60 * 60 * 1000

// The health monitor (backend/monitor, backend/monitor.go). Times are Unix ms, latencies ms.

/** Which of the three streams a client holds (monitor.Kind). */
export type StreamKind = 'stream' | 'chat' | 'notifications'
/** What kind of program holds a stream, from its user agent (monitor.Client). */
export type StreamClientKind = 'browser' | 'desktop' | 'bot' | 'other'
/** Why a stream was not opened (monitor.Refusal). */
export type Refusal = 'auth' | 'cap' | 'rate_limit' | 'shutdown' | 'forbidden' | 'other'
/** Why an open stream closed (monitor.End). */
export type StreamEnd =
  | 'client_gone'
  | 'overflow'
  | 'logout'
  | 'expired'
  | 'removed'
  | 'shutdown'
  | 'write_timeout'
  | 'error'

/** A latency histogram summarized in milliseconds (monitor.Latency). */
export interface Latency {
  count: number
  meanMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
}

/** How many chat streams one chat has open (monitor.ChatStreams). */
export interface ChatStreams {
  chatId: string
  open: number
}

/** The broker's counters (backend.BrokerStats). */
export interface BrokerStats {
  subscribers: number
  published: number
  delivered: number
  droppedEphemeral: number
  overflows: number
}

/**
 * What the open streams cost next to what 15-second polling would have cost the same clients for
 * the same chats (monitor.Polling). Per-hour figures are measured over windowSeconds and scaled.
 * meanPollBytes (and so pollBytesPerHour) is 0 until pollsMeasured is above 0; the ratios are
 * polling ÷ streams, 0 while the streams cost nothing yet.
 */
export interface Polling {
  windowSeconds: number
  streamRequestsPerHour: number
  streamBytesPerHour: number
  followedChats: number
  pollRequestsPerHour: number
  meanPollBytes: number
  pollsMeasured: number
  pollBytesPerHour: number
  requestRatio: number
  byteRatio: number
}

/** The monitor's summary: the dashboard's Overview, and what MONITOR_TICK carries (monitor.Totals). */
export interface Totals {
  now: number
  startedAt: number
  uptimeSeconds: number
  streams: {
    open: number
    /** Since start. */
    peak: number
    /** Since 00:00 UTC (or start). */
    peakToday: number
    byKind: Partial<Record<StreamKind, number>>
    byClient: Partial<Record<StreamClientKind, number>>
    /** The 20 busiest chats. */
    byChat: ChatStreams[]
  }
  connects: { succeeded: number; refused: Partial<Record<Refusal, number>> }
  disconnects: Partial<Record<StreamEnd, number>>
  /** How long closed streams lasted, seconds. */
  connectionSeconds: { count: number; mean: number; median: number; p95: number }
  delivery: { events: number; bytes: number; eventsPerSecond: number; bytesPerSecond: number }
  resumes: { count: number; backlogEvents: number; resyncs: number }
  broker: BrokerStats
  /** Publish → written to the socket, per event copy. */
  fanoutLatency: Latency
  postLatency: Latency
  commitLatency: Latency
  commitBatch: { mean: number; p99: number }
  errors: {
    total: number
    serverErrors: number
    byCategory: Record<string, number>
    /** The error answers of the last full minute. */
    perMinute: number
  }
  storeBytes: number
  polling: Polling
}

/** One open stream (monitor.StreamRecord). */
export interface StreamRecord {
  id: number
  userId: string
  username: string
  kind: StreamKind
  chatId?: string
  client: StreamClientKind
  userAgent: string
  remoteAddr: string
  connectedAt: number
  /** The last frame or keepalive written. */
  lastActivityAt: number
  events: number
  bytes: number
  droppedEphemeral: number
  resumed: boolean
  /** Events replayed from the log on resume. */
  backlog: number
  resyncs: number
}

/** One error answer (monitor.ErrorRecord); category is its error code. */
export interface ErrorRecord {
  at: number
  category: string
  status: number
  method: string
  path: string
  message: string
}

/**
 * One minute of the monitor's history (backend.MonitorMinute): counts are of that minute, streams
 * the number open at its end. pollRequests and pollBytes are what 15-second polling would have
 * cost the clients open then.
 */
export interface MonitorMinute {
  /** The minute's first instant. */
  t: number
  streams: number
  peakStreams: number
  connects: number
  refused: number
  disconnects: number
  events: number
  bytes: number
  posts: number
  postP50Ms: number
  postP99Ms: number
  fanoutP50Ms: number
  fanoutP99Ms: number
  errors: number
  serverErrors: number
  resyncs: number
  pollRequests: number
  pollBytes: number
}

/** What a cluster node does (backend.ClusterRole). */
export type ClusterRole = 'writer' | 'replica'

/** One node as the node answering hears of it (backend.ClusterNode). */
export interface ClusterNode {
  name: string
  /** Where the other nodes reach its HTTP API. */
  advertise: string
  role: ClusterRole
  /** The newest log entry it had applied at its last heartbeat. */
  appliedSeq: number
  /** logSeq − appliedSeq, with the answering node's logSeq. */
  lag: number
  /** Unix ms, by the answering node's clock (itself: now). */
  lastSeenAt: number
}

/**
 * A cluster node's view of its cluster (backend.ClusterStatus): GET /api/admin/monitor's
 * `cluster`, absent on a single server.
 */
export interface ClusterStatus {
  /** The answering node's name. */
  node: string
  role: ClusterRole
  /** The node holding the writer's lease; '' while none does. */
  writer: string
  /** The replicated log's newest entry. */
  logSeq: number
  /** The newest entry the answering node applied. */
  appliedSeq: number
  lag: number
  /** The nodes heard from in the last 5 s, the answering one included, by name. */
  nodes: ClusterNode[]
}

/** The windows GET /api/admin/monitor/history serves. */
export type MonitorRange = '15m' | '1h' | '24h' | '7d'

/** How long a watch lease lasts and how often an open dashboard renews it (ms; monitor.WatchLease). */
export const MONITOR_WATCH_LEASE_MS = 60_000
export const MONITOR_WATCH_RENEW_MS = 30_000
