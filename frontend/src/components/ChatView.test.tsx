import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Message, User } from '../api/types'
import { useChatStore } from '../hooks/useChatStore'
import type { Snapshot, ThreadView } from '../state/types'
import { ChatView, type ThreadNotifications } from './ChatView'
import { ada, chat, FakeChatStore, member, snapshot } from './testFakes'

const bob = member('u2', 'Bob')
const carol = member('u3', 'Carol')
const now = Date.now()
const minute = 60_000

function message(id: string, authorId: string, content: string, extra: Partial<Message> = {}): Message {
  return { id, chatId: 'c1', authorId, content, createdAt: now - 60 * minute + Number(id.slice(1)) * minute, ...extra }
}

const hello = message('m1', bob.id, 'Hello team', {
  replyCount: 2,
  lastReplyAt: now - 5 * minute,
  reactions: [{ emoji: '👍', count: 1, userIds: [bob.id] }],
})
const mine = message('m2', ada.id, 'My note', { editedAt: now - 30 * minute })
const grave = message('m3', bob.id, '', { deleted: true, replyCount: 1, lastReplyAt: now - 2 * minute })
const carols = message('m4', carol.id, 'carol here')

function team(partial: Partial<Snapshot> = {}, me: User = ada): Snapshot {
  return snapshot({
    me,
    chats: [chat('c1', 'general', [ada.id, bob.id, carol.id])],
    users: { [ada.id]: { ...ada, online: true }, [bob.id]: bob, [carol.id]: carol },
    views: {
      c1: { messages: [hello, mine, grave, carols], pending: [], hasMoreBefore: false, hasMoreAfter: false, loading: false },
    },
    ...partial,
  })
}

function thread(partial: Partial<ThreadView> = {}): ThreadView {
  return {
    chatId: 'c1',
    parentId: hello.id,
    parent: hello,
    messages: [
      message('m5', carol.id, 'first reply', { parentId: hello.id }),
      message('m6', ada.id, 'my reply', { parentId: hello.id }),
    ],
    pending: [],
    hasMoreBefore: false,
    hasMoreAfter: false,
    loading: false,
    ...partial,
  }
}

type Props = Partial<Omit<Parameters<typeof ChatView>[0], 'store'>>

/** ChatView following the fake store, as Workspace has it. */
function Harness({ store, ...props }: Props & { store: FakeChatStore }) {
  const current = useChatStore(store)
  return <ChatView store={store} snapshot={current} chatId="c1" {...props} />
}

function renderChat(store = new FakeChatStore(team()), props: Props = {}) {
  render(<Harness store={store} {...props} />)
  return { store, user: userEvent.setup() }
}

/** The list item of a message in the chat's history (or, with `within`, elsewhere). */
function item(id: string, root: HTMLElement = screen.getByRole('log', { name: 'Messages in #general' })): HTMLElement {
  const el = root.querySelector<HTMLElement>(`[data-message-id="${id}"]`)
  if (!el) throw new Error(`no message ${id}`)
  return el
}

async function openMenu(user: ReturnType<typeof userEvent.setup>, id: string) {
  const el = item(id)
  await user.click(within(el).getByRole('button', { name: /^More actions for message from / }))
  return screen.getByRole('menu', { name: 'Message actions' })
}

describe('ChatView: message actions', () => {
  afterEach(() => window.history.replaceState(null, '', '/'))

  it("edits the user's own message inline: Shift+Enter starts a line, Enter saves, focus goes back", async () => {
    const { store, user } = renderChat()
    const editMessage = vi.spyOn(store, 'editMessage')
    const button = within(item('m2')).getByRole('button', { name: 'More actions for message from Ada Lovelace' })

    await openMenu(user, 'm2')
    await user.click(screen.getByRole('menuitem', { name: 'Edit' }))
    const editor = screen.getByRole('textbox', { name: 'Edit message' })
    expect(document.activeElement).toBe(editor)
    expect(editor).toHaveProperty('value', 'My note')
    await user.type(editor, ' and more{Shift>}{Enter}{/Shift}second line{Enter}')

    expect(editMessage).toHaveBeenCalledExactlyOnceWith('c1', 'm2', 'My note and more\nsecond line')
    await waitFor(() => expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull())
    expect(document.activeElement).toBe(button)
  })

  it('cancels an edit with Escape, and keeps the editor open with the reason when saving fails', async () => {
    const { store, user } = renderChat()
    const editMessage = vi.spyOn(store, 'editMessage').mockRejectedValueOnce(new Error('This message was deleted.'))

    await openMenu(user, 'm2')
    await user.click(screen.getByRole('menuitem', { name: 'Edit' }))
    await user.type(screen.getByRole('textbox', { name: 'Edit message' }), ' draft{Escape}')
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull()
    expect(editMessage).not.toHaveBeenCalled()

    await openMenu(user, 'm2')
    await user.click(screen.getByRole('menuitem', { name: 'Edit' }))
    await user.type(screen.getByRole('textbox', { name: 'Edit message' }), '!{Enter}')
    expect((await within(item('m2')).findByRole('alert')).textContent).toBe('This message was deleted.')
    expect(screen.getByRole('textbox', { name: 'Edit message' })).toBeDefined()
  })

  it('says a message was edited, with the time as its title', () => {
    renderChat()
    const edited = within(item('m2')).getByText('(edited)')
    expect(edited.title).toBe(`Edited ${new Date(mine.editedAt ?? 0).toLocaleString()}`)
    expect(within(item('m1')).queryByText('(edited)')).toBeNull()
  })

  it("offers Edit on the user's own messages only, and Delete on anyone's to an admin", async () => {
    const { user } = renderChat()
    await openMenu(user, 'm1')
    expect(screen.queryByRole('menuitem', { name: 'Edit' })).toBeNull()
    expect(screen.getByRole('menuitem', { name: 'Delete…' })).toBeDefined()
    expect(screen.getByRole('menuitem', { name: 'Reply in thread' })).toBeDefined()
    expect(screen.getByRole('menuitem', { name: 'Copy link' })).toBeDefined()
    expect(screen.getByRole('menuitem', { name: 'Pin to chat' })).toBeDefined()
  })

  it("gives a member no Delete on someone else's message", async () => {
    const memberMe: User = { ...ada, role: 'member' }
    const { user } = renderChat(new FakeChatStore(team({}, memberMe)))
    await openMenu(user, 'm1')
    expect(screen.queryByRole('menuitem', { name: 'Delete…' })).toBeNull()
    await user.keyboard('{Escape}')
    await openMenu(user, 'm2')
    expect(screen.getByRole('menuitem', { name: 'Delete…' })).toBeDefined()
  })

  it('deletes only after confirming in a dialog', async () => {
    const { store, user } = renderChat()
    const deleteMessage = vi.spyOn(store, 'deleteMessage')

    await openMenu(user, 'm4')
    await user.click(screen.getByRole('menuitem', { name: 'Delete…' }))
    let dialog = screen.getByRole('dialog', { name: 'Delete message?' })
    expect(dialog.textContent).toContain('The message from Carol will be deleted for everyone')
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(deleteMessage).not.toHaveBeenCalled()

    await openMenu(user, 'm4')
    await user.click(screen.getByRole('menuitem', { name: 'Delete…' }))
    dialog = screen.getByRole('dialog', { name: 'Delete message?' })
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }))
    expect(deleteMessage).toHaveBeenCalledExactlyOnceWith('c1', 'm4')
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())
  })

  it('shows a tombstone in place, muted, with no actions but the link to its thread', () => {
    renderChat()
    const el = item('m3')
    expect(within(el).getByText('This message was deleted.').className).toBe('tombstone')
    expect(within(el).queryByRole('button', { name: /More actions/ })).toBeNull()
    expect(within(el).getByRole('button', { name: '1 reply · last reply 2 min ago' })).toBeDefined()
  })

  it("reacts from the menu's quick row, the picker, and the reactions under the message", async () => {
    const { store, user } = renderChat()
    const react = vi.spyOn(store, 'react')

    await openMenu(user, 'm1')
    await user.click(screen.getByRole('menuitemcheckbox', { name: 'React with 🎉' }))
    expect(react).toHaveBeenLastCalledWith('c1', 'm1', '🎉', true)

    const thumbs = within(item('m1')).getByRole('button', { name: '👍 1' })
    expect(thumbs.getAttribute('aria-pressed')).toBe('false')
    await user.click(thumbs)
    expect(react).toHaveBeenLastCalledWith('c1', 'm1', '👍', true)

    await openMenu(user, 'm4')
    await user.click(screen.getByRole('menuitem', { name: 'Add reaction…' }))
    const picker = screen.getByRole('dialog', { name: 'React to the message from Carol' })
    await user.type(within(picker).getByRole('searchbox', { name: 'Search emoji' }), 'eyes')
    await user.click(await within(picker).findByRole('button', { name: 'Eyes' }, { timeout: 5000 }))
    expect(react).toHaveBeenLastCalledWith('c1', 'm4', '👀', true)
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('pins and unpins from the menu', async () => {
    const store = new FakeChatStore(team())
    const pin = vi.spyOn(store, 'pin')
    const { user } = renderChat(store)
    await openMenu(user, 'm4')
    await user.click(screen.getByRole('menuitem', { name: 'Pin to chat' }))
    expect(pin).toHaveBeenLastCalledWith('c1', 'm4', true)

    act(() => store.update({ views: { c1: { ...team().views.c1!, messages: [{ ...carols, pinned: true }] } } }))
    expect(within(item('m4')).getByText('Pinned')).toBeDefined()
    await openMenu(user, 'm4')
    await user.click(screen.getByRole('menuitem', { name: 'Unpin' }))
    expect(pin).toHaveBeenLastCalledWith('c1', 'm4', false)
  })

  it('copies a link that opens the chat at the message', async () => {
    vi.stubGlobal('isSecureContext', true)
    const { user } = renderChat()
    await openMenu(user, 'm4')
    await user.click(screen.getByRole('menuitem', { name: 'Copy link' }))

    expect(await navigator.clipboard.readText()).toBe(`${window.location.origin}/chats/c1?message=m4`)
    expect(await screen.findByText('Link copied.')).toBeDefined()
  })

  it('shows the link to copy by hand where the clipboard is out of reach (plain HTTP)', async () => {
    vi.stubGlobal('isSecureContext', false)
    const { user } = renderChat()
    await openMenu(user, 'm1')
    await user.click(screen.getByRole('menuitem', { name: 'Copy link' }))

    const dialog = await screen.findByRole('dialog', { name: 'Link to the message' })
    expect(within(dialog).getByRole('textbox', { name: 'Link to the message' })).toHaveProperty(
      'value',
      `${window.location.origin}/chats/c1?message=m1`,
    )
  })

  it("edits the user's last message on ↑ in the empty composer, not when it holds text", async () => {
    const { user } = renderChat()
    const composer = screen.getByRole('textbox', { name: 'Message' })
    await user.click(composer)
    await user.type(composer, 'x{ArrowUp}')
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull()

    await user.clear(composer)
    await user.keyboard('{ArrowUp}')
    const editor = screen.getByRole('textbox', { name: 'Edit message' })
    expect(editor).toHaveProperty('value', 'My note')
    expect(item('m2').contains(editor)).toBe(true)
    await user.keyboard('{Escape}')
    expect(document.activeElement).toBe(composer)
  })
})

describe('ChatView: threads', () => {
  it('says in a thread who the reply mentions is in quiet hours, and sends it with Notify anyway', async () => {
    const store = new FakeChatStore(team())
    const quiet = vi.spyOn(store, 'quiet').mockResolvedValue([
      { userId: bob.id, reason: 'quietHours', until: now + 60 * minute, untilLocal: '07:00', notifyAnyway: true },
    ])
    const sendReply = vi.spyOn(store, 'sendReply')
    const { user } = renderChat(store)
    await user.click(within(item('m1')).getByRole('button', { name: '2 replies · last reply 5 min ago' }))
    act(() => store.update({ threads: { m1: thread() } }))
    const panel = screen.getByRole('complementary', { name: 'Thread in #general' })
    const box = within(panel).getByRole('textbox', { name: 'Reply' })

    await user.type(box, `@${bob.username} the deploy is stuck`)
    expect(quiet).toHaveBeenLastCalledWith('c1', [bob.id])
    expect(await within(panel).findByText('Bob is in quiet hours until 07:00 their time — they will see it then.')).toBeDefined()
    await user.click(within(panel).getByRole('switch', { name: 'Notify anyway' }))
    await user.type(box, '{Enter}')
    expect(sendReply).toHaveBeenLastCalledWith('c1', 'm1', `@${bob.username} the deploy is stuck`, false, { notifyAnyway: true })
  })

  it('opens a thread beside the chat from its summary: parent, replies, composer', async () => {
    const store = new FakeChatStore(team())
    const openThread = vi.spyOn(store, 'openThread')
    const sendReply = vi.spyOn(store, 'sendReply')
    const typed = vi.spyOn(store, 'typed')
    const { user } = renderChat(store)

    await user.click(within(item('m1')).getByRole('button', { name: '2 replies · last reply 5 min ago' }))
    expect(openThread).toHaveBeenCalledWith('c1', 'm1')
    act(() => store.update({ threads: { m1: thread() } }))

    const panel = screen.getByRole('complementary', { name: 'Thread in #general' })
    const replies = within(panel).getByRole('log', { name: 'Thread replies' })
    expect(within(replies).getByText('Hello team')).toBeDefined()
    expect(within(replies).getByText('first reply')).toBeDefined()
    expect(within(replies).getByText('2 replies')).toBeDefined()
    const box = within(panel).getByRole('textbox', { name: 'Reply' })
    expect(box.getAttribute('placeholder')).toBe('Reply in thread…')
    expect(document.activeElement).toBe(box)

    await user.type(box, 'count me in{Enter}')
    expect(sendReply).toHaveBeenLastCalledWith('c1', 'm1', 'count me in', false)
    expect(typed).toHaveBeenCalledWith('c1', 'm1')
    await user.click(within(panel).getByRole('checkbox', { name: 'Also send to #general' }))
    await user.type(box, 'everyone should see this{Enter}')
    expect(sendReply).toHaveBeenLastCalledWith('c1', 'm1', 'everyone should see this', true)

    await user.click(within(panel).getByRole('button', { name: 'Close thread' }))
    expect(screen.queryByRole('complementary')).toBeNull()
  })

  it('opens a thread from the menu, closes it on Escape, and has no thread actions inside', async () => {
    const store = new FakeChatStore(team({ threads: { m1: thread() } }))
    const { user } = renderChat(store)
    await openMenu(user, 'm1')
    await user.click(screen.getByRole('menuitem', { name: 'Reply in thread' }))

    const panel = screen.getByRole('complementary', { name: 'Thread in #general' })
    const reply = within(panel).getByText('first reply').closest('[data-message-id]') as HTMLElement
    await user.click(within(reply).getByRole('button', { name: 'More actions for message from Carol' }))
    expect(screen.queryByRole('menuitem', { name: 'Reply in thread' })).toBeNull()
    await user.keyboard('{Escape}') // closes the menu only
    expect(screen.getByRole('complementary')).toBeDefined()
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('complementary')).toBeNull()
  })

  it('shows who types in the thread there, and who types in the chat under the chat', () => {
    const store = new FakeChatStore(team({ threads: { m1: thread() }, threadTyping: { m1: [carol.id] }, typing: { c1: [bob.id] } }))
    renderChat(store)
    act(() => {
      within(item('m1')).getByRole('button', { name: /2 replies/ }).click()
    })
    const panel = screen.getByRole('complementary', { name: 'Thread in #general' })
    expect(within(panel).getByText('Carol is typing…')).toBeDefined()
    expect(within(panel).queryByText('Bob is typing…')).toBeNull()
    expect(screen.getByText('Bob is typing…').closest('aside')).toBeNull()
  })

  it('counts the unread replies of a thread and marks them read when it is opened', async () => {
    const unread = { unreadReplies: { m1: ['n1', 'n2'] } }
    const markRead = vi.fn<(ids: string[]) => Promise<void>>(() => Promise.resolve())
    const notifications: ThreadNotifications = {
      subscribe: () => () => undefined,
      getSnapshot: () => unread,
      markRead,
    }
    const { user } = renderChat(new FakeChatStore(team({ threads: { m1: thread() } })), { notifications })

    const summary = within(item('m1')).getByRole('button', { name: '2 replies · last reply 5 min ago · 2 new' })
    await user.click(summary)

    expect(markRead).toHaveBeenCalledWith(['n1', 'n2'])
  })

  it("edits the user's last reply on ↑ in the thread's empty composer", async () => {
    const store = new FakeChatStore(team({ threads: { m1: thread() } }))
    const { user } = renderChat(store)
    await user.click(within(item('m1')).getByRole('button', { name: /2 replies/ }))
    const panel = screen.getByRole('complementary')

    await user.keyboard('{ArrowUp}')

    const editor = within(panel).getByRole('textbox', { name: 'Edit message' })
    expect(editor).toHaveProperty('value', 'my reply')
  })
})

describe('ChatView: pins, unread and links to messages', () => {
  afterEach(() => window.history.replaceState(null, '', '/'))

  it('shows the pin count in the header and jumps to a pinned message, highlighted', async () => {
    const store = new FakeChatStore(team({ pins: { c1: [{ ...carols, pinned: true }] } }))
    const loadPins = vi.spyOn(store, 'loadPins')
    const showMessage = vi.spyOn(store, 'showMessage')
    const { user } = renderChat(store)
    expect(loadPins).toHaveBeenCalledWith('c1')

    await user.click(screen.getByRole('button', { name: 'Pinned messages (1)' }))
    const dialog = screen.getByRole('dialog', { name: 'Pinned messages' })
    await user.click(within(dialog).getByRole('button', { name: /Carol.*carol here/ }))

    expect(showMessage).toHaveBeenCalledWith('c1', 'm4')
    await waitFor(() => expect(document.activeElement).toBe(item('m4')))
    expect(item('m4').hasAttribute('data-highlighted')).toBe(true)
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('opens at a linked message, highlighted, then makes the address the chat’s own again', async () => {
    window.history.replaceState(null, '', '/chats/c1?message=m4')
    const store = new FakeChatStore(team())
    const showMessage = vi.spyOn(store, 'showMessage')
    renderChat(store, { target: { messageId: 'm4' } })

    await waitFor(() => expect(document.activeElement).toBe(item('m4')))
    expect(showMessage).toHaveBeenCalledWith('c1', 'm4')
    expect(item('m4').hasAttribute('data-highlighted')).toBe(true)
    await waitFor(() => expect(window.location.pathname + window.location.search).toBe('/chats/c1'))
  })

  it('opens a linked reply in its thread', async () => {
    const store = new FakeChatStore(team({ threads: { m1: thread() } }))
    const findReply = vi.spyOn(store, 'findReply')
    renderChat(store, { target: { messageId: 'm5', threadId: 'm1' } })

    const panel = await screen.findByRole('complementary', { name: 'Thread in #general' })
    const reply = within(panel).getByText('first reply').closest('[data-message-id]')
    await waitFor(() => expect(document.activeElement).toBe(reply))
    expect(findReply).toHaveBeenCalledWith('m1', 'm5')
  })

  it('says so when a linked message is not in the chat', async () => {
    const store = new FakeChatStore(team())
    vi.spyOn(store, 'showMessage').mockResolvedValue(false)
    renderChat(store, { target: { messageId: 'gone' } })
    expect((await screen.findByRole('alert')).textContent).toBe('That message is not in the history of this chat.')
  })

  it('shows the New messages divider above the first unread message, and Jump to latest', async () => {
    const view = { ...team().views.c1!, unreadFrom: 'm3', hasMoreAfter: true }
    const store = new FakeChatStore(team({ views: { c1: view } }))
    const jumpToLatest = vi.spyOn(store, 'jumpToLatest')
    const loadNewer = vi.spyOn(store, 'loadNewer')
    const { user } = renderChat(store)

    const log = screen.getByRole('log', { name: 'Messages in #general' })
    const rows = within(log)
      .getAllByRole('listitem')
      .map((li) => (li.classList.contains('unread-divider') ? 'divider' : (li.dataset.messageId ?? 'day')))
    expect(rows).toEqual(['day', 'm1', 'm2', 'divider', 'm3', 'm4'])
    expect(within(log).getByText('New messages')).toBeDefined()

    await user.click(within(log).getByRole('button', { name: 'Load newer messages' }))
    expect(loadNewer).toHaveBeenCalledWith('c1', undefined)
    await user.click(screen.getByRole('button', { name: 'Jump to latest' }))
    expect(jumpToLatest).toHaveBeenCalledWith('c1')
  })

  it('puts the day first and the divider under it when the first unread starts a day', () => {
    const view = { ...team().views.c1!, unreadFrom: 'm1' }
    renderChat(new FakeChatStore(team({ views: { c1: view } })))
    const log = screen.getByRole('log', { name: 'Messages in #general' })
    const rows = within(log)
      .getAllByRole('listitem')
      .map((li) => (li.classList.contains('unread-divider') ? 'divider' : (li.dataset.messageId ?? 'day')))
    expect(rows).toEqual(['day', 'divider', 'm1', 'm2', 'm3', 'm4'])
  })

  it('has no Jump to latest while the newest message is in view', () => {
    renderChat()
    expect(screen.queryByRole('button', { name: 'Jump to latest' })).toBeNull()
  })
})

describe('ChatView: a DM is named by its person everywhere', () => {
  function dm(partial: Partial<Snapshot> = {}): Snapshot {
    const withBob = (m: Message): Message => ({ ...m, chatId: 'c1' })
    return team({
      chats: [chat('c1', '', [ada.id, bob.id], 0, { kind: 'dm', ownerIds: [] })],
      views: { c1: { messages: [withBob(hello)], pending: [], hasMoreBefore: false, hasMoreAfter: false, loading: false } },
      ...partial,
    })
  }

  it('in the history, the composer, the thread panel and the pinned messages, never "#"', async () => {
    const store = new FakeChatStore(dm({ threads: { m1: thread() }, pins: { c1: [{ ...hello, pinned: true }] } }))
    const { user } = renderChat(store)

    const log = screen.getByRole('log', { name: 'Messages in Bob' })
    expect(within(log).getByText(/This is the very beginning of your conversation with/).textContent).toContain('Bob')
    expect(screen.getByRole('textbox', { name: 'Message' }).getAttribute('placeholder')).toBe('Message Bob')

    await user.click(screen.getByRole('button', { name: 'Pinned messages (1)' }))
    const dialog = screen.getByRole('dialog', { name: 'Pinned messages' })
    expect(within(dialog).getByRole('list', { name: 'Pinned messages in Bob' })).toBeDefined()
    expect(dialog.textContent).not.toContain('#')
    await user.click(within(dialog).getByRole('button', { name: 'Close' }))

    await user.click(within(item('m1', log)).getByRole('button', { name: /^2 replies/ }))
    const panel = screen.getByRole('complementary', { name: 'Thread in Bob' })
    expect(within(panel).getByRole('checkbox', { name: 'Also send to Bob' })).toBeDefined()
    expect(panel.querySelector('.thread-header')?.textContent).not.toContain('#')
  })

  it('says in its header that the other person is deactivated', () => {
    renderChat(new FakeChatStore(dm({ users: { [ada.id]: { ...ada, online: true }, [bob.id]: { ...bob, deactivated: true } } })))

    expect(screen.getByRole('heading', { level: 1, name: 'Bob (deactivated)' })).toBeDefined()
  })
})
