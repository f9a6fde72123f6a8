// Stand-ins for the store and the stream in component tests: they hold a snapshot (or connection
// info) the test sets, and do nothing else. Spy on their methods to see what components call.
import type { SearchPage } from '../api/client'
import type { ChannelInfo, Chat, ChatChange, Event as ServerEvent, Silence, User } from '../api/types'
import type { ChatStoreApi, Member, Snapshot } from '../state/types'
import type { ConnectionInfo, EventListener, EventStream, InfoListener } from '../stream/types'

export const ada: User = {
  id: 'u1',
  username: 'ada',
  displayName: 'Ada Lovelace',
  role: 'admin',
  createdAt: 1_700_000_000_000,
}

export function member(id: string, displayName: string, online = false): Member {
  return {
    id,
    username: displayName.toLowerCase(),
    displayName,
    role: 'member',
    createdAt: 1_700_000_000_000,
    online,
  }
}

export function chat(id: string, name: string, memberIds: string[], unread = 0, extra: Partial<Chat> = {}): Chat {
  return {
    id,
    kind: 'channel',
    name,
    topic: '',
    memberIds,
    ownerIds: [memberIds[0] ?? ada.id],
    archived: false,
    createdBy: memberIds[0] ?? ada.id,
    createdAt: 1_700_000_000_000,
    unread,
    ...extra,
  }
}

export function snapshot(partial: Partial<Snapshot> = {}): Snapshot {
  return {
    me: ada,
    chats: [],
    users: { [ada.id]: { ...ada, online: true } },
    views: {},
    typing: {},
    threads: {},
    threadTyping: {},
    pins: {},
    departed: {},
    ...partial,
  }
}

export class FakeChatStore implements ChatStoreApi {
  private current: Snapshot
  private readonly listeners = new Set<() => void>()

  constructor(initial: Snapshot = snapshot()) {
    this.current = initial
  }

  /** Publishes a new snapshot, as the real store does after every change. */
  update(change: Partial<Snapshot>): void {
    this.current = { ...this.current, ...change }
    for (const listener of this.listeners) listener()
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  getSnapshot(): Snapshot {
    return this.current
  }

  start(): Promise<void> {
    return Promise.resolve()
  }

  stop(): void {}

  openChat(): Promise<void> {
    return Promise.resolve()
  }

  closeChat(): void {}

  loadOlder(): Promise<void> {
    return Promise.resolve()
  }

  send(): void {}
  quiet(): Promise<Silence[]> {
    return Promise.resolve([])
  }

  retry(): void {}

  discard(): void {}

  createChat(name: string, memberIds: string[]): Promise<Chat> {
    return Promise.resolve(chat('c-new', name, [this.current.me.id, ...memberIds]))
  }

  addMember(): Promise<void> {
    return Promise.resolve()
  }

  browseChannels(): Promise<ChannelInfo[]> {
    return Promise.resolve([])
  }

  joinChat(chatId: string): Promise<Chat> {
    return Promise.resolve(chat(chatId, chatId, [this.current.me.id]))
  }

  leaveChat(): Promise<void> {
    return Promise.resolve()
  }

  removeMember(): Promise<void> {
    return Promise.resolve()
  }

  updateChat(chatId: string, change: ChatChange): Promise<Chat> {
    const held = this.current.chats.find((c) => c.id === chatId) ?? chat(chatId, chatId, [this.current.me.id])
    return Promise.resolve({ ...held, ...change })
  }

  createDM(userIds: string[]): Promise<Chat> {
    return Promise.resolve(chat('dm-new', '', [this.current.me.id, ...userIds], 0, { kind: 'dm', ownerIds: [] }))
  }

  typed(): void {}

  applyUserUpdated(user: User): void {
    const known = this.current.users[user.id]
    this.update({
      users: known ? { ...this.current.users, [user.id]: { ...known, ...user } } : this.current.users,
      me: user.id === this.current.me.id ? { ...this.current.me, ...user } : this.current.me,
    })
  }

  showMessage(): Promise<boolean> {
    return Promise.resolve(true)
  }

  loadNewer(): Promise<void> {
    return Promise.resolve()
  }

  jumpToLatest(): Promise<void> {
    return Promise.resolve()
  }

  editMessage(): Promise<void> {
    return Promise.resolve()
  }

  deleteMessage(): Promise<void> {
    return Promise.resolve()
  }

  react(): Promise<void> {
    return Promise.resolve()
  }

  pin(): Promise<void> {
    return Promise.resolve()
  }

  loadPins(): Promise<void> {
    return Promise.resolve()
  }

  openThread(): Promise<void> {
    return Promise.resolve()
  }

  loadOlderReplies(): Promise<void> {
    return Promise.resolve()
  }

  findReply(): Promise<boolean> {
    return Promise.resolve(true)
  }

  sendReply(): void {}

  search(): Promise<SearchPage> {
    return Promise.resolve({ results: [] })
  }
}

export class FakeEventStream implements EventStream {
  private current: ConnectionInfo = {
    state: 'connecting',
    lastEventAt: null,
    reconnects: 0,
    latencyMs: null,
  }
  private readonly listeners = new Set<InfoListener>()

  /** Changes the connection info and tells listeners, as the real stream does. */
  setInfo(change: Partial<ConnectionInfo>): void {
    this.current = { ...this.current, ...change }
    for (const listener of this.listeners) listener(this.current)
  }

  start(): void {}

  stop(): void {}

  private readonly eventListeners = new Set<EventListener>()

  /** How many listen for events: a test that emits right after a render waits until the
   * components' effects have subscribed (they may run after the DOM shows them). */
  get eventListenerCount(): number {
    return this.eventListeners.size
  }

  /** Hands an event to the listeners, as one arriving on the stream. */
  emit(event: ServerEvent): void {
    for (const listener of this.eventListeners) listener(event)
  }

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  onInfo(listener: InfoListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  info(): ConnectionInfo {
    return this.current
  }

  expectEcho(): void {}
}
