import type { AgentStatus, Chat, User } from '../api/types'
import type { Member } from '../state/types'
import { presenceOf as userPresence } from './Avatar'
import { personName } from './names'

/** The people of a DM other than the user, by name; the user alone for a DM with themself. */
export function dmPeople(chat: Chat, users: Record<string, Member>, meId: string): Member[] {
  const others = chat.memberIds.filter((id) => id !== meId).flatMap((id) => users[id] ?? [])
  return others.sort((a, b) => personName(a).localeCompare(personName(b)))
}

/** How a chat is named everywhere (sidebar link, header, title): a channel or private chat by its
 * name, a DM by its other people's names. */
export function chatLabel(chat: Chat, users: Record<string, Member>, meId: string): string {
  if (chat.kind !== 'dm') return chat.name
  const people = dmPeople(chat, users, meId)
  if (people.length === 0) return chat.memberIds.length > 1 ? 'Direct message' : personName(users[meId])
  return people.map(personName).join(', ')
}

/** "#name" for a channel or private chat, the people's names for a DM (titles, placeholders). */
export function chatTitle(chat: Chat, users: Record<string, Member>, meId: string): string {
  return chat.kind === 'dm' ? chatLabel(chat, users, meId) : `#${chat.name}`
}

/** May the user rename, archive and remove members (backend.MayManageChat): owners and admins;
 * nobody manages a DM. */
export function mayManage(chat: Chat, me: User): boolean {
  return chat.kind !== 'dm' && (me.role === 'admin' || chat.ownerIds.includes(me.id))
}

/** A person's presence, as the member list and DMs show it (the server's AgentStatus). */
export type Presence = AgentStatus

/** A member's presence (Avatar's presenceOf); no member is offline. */
export function presenceOf(member: Member | undefined): Presence {
  return member ? userPresence(member) : 'offline'
}
