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
}

export interface Chat {
  id: string
  name: string
  memberIds: string[]
  createdBy: string
  createdAt: number
  /** Messages by other members after the caller's read marker, capped at 999. Only in chat lists. */
  unread?: number
  /** The caller's read marker. Only in chat lists. */
  lastReadId?: string
  lastMessageId?: string
}

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
  | 'RESYNC'
  | 'PREFERENCES_CHANGED'
  | 'MENTION'

/** One item of the server's event stream. Which optional fields are set depends on type. */
/** online while a member has a stream open (offline 30 s after the last closes); bots set
 * their own. */
export type AgentStatus = 'online' | 'busy' | 'offline'

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
  message?: Message
  chat?: Chat
  userId?: string
  agent?: Agent
  status?: AgentStatus
}

/** The body of every error response. */
export interface ApiError {
  error: {
    code: string
    message: string
  }
}
