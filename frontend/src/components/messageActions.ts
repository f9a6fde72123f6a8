// What a message in a list can do, handed down by the chat (ChatView) to every message of its
// history and of its thread. Without it (a plain list) messages show no actions.
import { createContext, useContext } from 'react'
import type { Message, User } from '../api/types'

export interface MessageActions {
  me: User
  /** Usernames of the team: only these become mention spans in message bodies. */
  usernames: ReadonlySet<string>
  /** A member's display name (reactions, menus). */
  nameOf: (userId: string) => string
  /** The message whose inline editor is open, if any (one at a time). */
  editingId: string | null
  /** Opens the inline editor; returnFocus gets focus back when it closes. */
  startEdit: (messageId: string, returnFocus?: HTMLElement | null) => void
  /** Closes the inline editor (saved or cancelled). */
  endEdit: () => void
  /** Saves an edit; rejects with the server's refusal. */
  saveEdit: (message: Message, content: string) => Promise<void>
  /** Asks to delete (a confirmation dialog). */
  requestDelete: (message: Message) => void
  openThread: (parentId: string) => void
  react: (message: Message, emoji: string, on: boolean) => void
  pin: (message: Message, on: boolean) => void
  copyLink: (message: Message) => void
  /** Per thread (parent id), the notifications of replies not read yet. */
  unreadReplies: Readonly<Record<string, readonly string[]>>
  /** Unix ms, renewed every minute: "last reply 5 min ago". */
  now: number
}

export const MessageActionsContext = createContext<MessageActions | null>(null)

export function useMessageActions(): MessageActions | null {
  return useContext(MessageActionsContext)
}

/** The reactions offered in every message's menu, one press away. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉'] as const

/** Whether the user may delete the message: its author, or an admin (backend.MayDelete). */
export function mayDelete(message: Message, me: User): boolean {
  return message.authorId === me.id || me.role === 'admin'
}

/** Whether the user may edit it: its author, a text message not deleted (backend.MayEdit). */
export function mayEdit(message: Message, me: User): boolean {
  return message.authorId === me.id && !message.deleted && message.attachment === undefined
}

/** A reply that lives in its thread only (not also sent to the chat). */
export function threadOnly(message: Message): boolean {
  return message.parentId !== undefined && !message.alsoToChat
}

/** The element that has focus (the composer's box when ↑ opens an edit), to return it to. */
export function focused(): HTMLElement | null {
  return document.activeElement instanceof HTMLElement ? document.activeElement : null
}
