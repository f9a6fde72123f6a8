import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Chat, User } from '../api/types'
import { useChatStore } from '../hooks/useChatStore'
import type { Snapshot } from '../state/types'
import { ChatSettingsDialog } from './ChatSettingsDialog'
import { ChatView } from './ChatView'
import { ada, chat, FakeChatStore, member, snapshot } from './testFakes'

const bob = member('u2', 'Bob', true)
const carol = member('u3', 'Carol')
const users = { [ada.id]: { ...ada, online: true }, [bob.id]: bob, [carol.id]: carol }
const plainAda: User = { ...ada, role: 'member' }

function team(c: Chat, partial: Partial<Snapshot> = {}, me: User = ada): Snapshot {
  return snapshot({
    me,
    chats: [c],
    users,
    views: { [c.id]: { messages: [], pending: [], hasMoreBefore: false, hasMoreAfter: false, loading: false } },
    ...partial,
  })
}

function Harness({ store, chatId }: { store: FakeChatStore; chatId: string }) {
  const current = useChatStore(store)
  return <ChatView store={store} snapshot={current} chatId={chatId} />
}

function renderChat(store: FakeChatStore, chatId = 'c1') {
  render(<Harness store={store} chatId={chatId} />)
  return userEvent.setup()
}

afterEach(() => window.history.replaceState(null, '', '/'))

describe('ChatView membership', () => {
  it('shows the topic in the header', () => {
    renderChat(new FakeChatStore(team(chat('c1', 'ops', [ada.id, bob.id], 0, { topic: 'On call rota' }))))

    expect(screen.getByText('On call rota')).toBeDefined()
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('#ops')
  })

  it('replaces the composer of an archived chat, with Unarchive for its owners', async () => {
    const store = new FakeChatStore(team(chat('c1', 'ops', [ada.id, bob.id], 0, { archived: true })))
    const updateChat = vi.spyOn(store, 'updateChat')
    const user = renderChat(store)

    expect(screen.queryByRole('textbox', { name: 'Message' })).toBeNull()
    expect(screen.getByRole('status').textContent).toContain('This chat is archived.')
    await user.click(screen.getByRole('button', { name: 'Unarchive' }))
    expect(updateChat).toHaveBeenCalledExactlyOnceWith('c1', { archived: false })
  })

  it('offers no Unarchive to members who do not manage the chat', () => {
    const c = chat('c1', 'ops', [bob.id, ada.id], 0, { archived: true, ownerIds: [bob.id] })
    renderChat(new FakeChatStore(team(c, {}, plainAda)))

    expect(screen.getByRole('status').textContent).toContain('This chat is archived.')
    expect(screen.queryByRole('button', { name: 'Unarchive' })).toBeNull()
  })

  it('says so when the user is removed from the open chat, and shows nothing of it', () => {
    const c = chat('c1', 'ops', [ada.id, bob.id])
    const store = new FakeChatStore(team(c))
    renderChat(store)

    act(() => store.update({ chats: [], views: {}, departed: { c1: { chat: c, reason: 'removed' } } }))

    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('You were removed from #ops')
    expect(screen.queryByRole('log')).toBeNull()
    expect(screen.queryByRole('textbox', { name: 'Message' })).toBeNull()
    expect(screen.getByRole('link', { name: 'Go to all chats' })).toBeDefined()
  })

  it('says a DM hidden (here or on another device) is hidden, and that it comes back', () => {
    const dm = chat('c1', '', [ada.id, bob.id], 0, { kind: 'dm', ownerIds: [] })
    const store = new FakeChatStore(team(dm))
    renderChat(store)

    act(() => store.update({ chats: [], views: {}, departed: { c1: { chat: dm, reason: 'left' } } }))

    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Your conversation with Bob is hidden')
    expect(screen.getByText('It comes back when someone writes in it.')).toBeDefined()
    expect(screen.queryByRole('textbox', { name: 'Message' })).toBeNull()
  })

  it('names a DM by its people, and messages a member from their card', async () => {
    const dm = chat('d1', '', [ada.id, bob.id], 0, { kind: 'dm', ownerIds: [] })
    const store = new FakeChatStore(team(chat('c1', 'ops', [ada.id, bob.id, carol.id]), { chats: [chat('c1', 'ops', [ada.id, bob.id, carol.id]), dm] }))
    const createDM = vi.spyOn(store, 'createDM').mockResolvedValue(dm)
    const user = renderChat(store)

    await user.click(within(screen.getByRole('list', { name: 'Members' })).getByRole('button', { name: /Bob/ }))
    const card = screen.getByRole('dialog', { name: 'Bob' })
    expect(card.textContent).toContain('@bob · online')
    await user.click(within(card).getByRole('button', { name: 'Message' }))

    expect(createDM).toHaveBeenCalledExactlyOnceWith([bob.id])
    await vi.waitFor(() => expect(window.location.pathname).toBe('/chats/d1'))
  })

  it('closes a profile card with Escape, focus back on the name', async () => {
    const user = renderChat(new FakeChatStore(team(chat('c1', 'ops', [ada.id, bob.id]))))
    const name = within(screen.getByRole('list', { name: 'Members' })).getByRole('button', { name: /Bob/ })

    await user.click(name)
    expect(name.getAttribute('aria-expanded')).toBe('true')
    await user.keyboard('{Escape}')

    expect(screen.queryByRole('dialog', { name: 'Bob' })).toBeNull()
    expect(document.activeElement).toBe(name)
  })
})

describe('ChatSettingsDialog', () => {
  function renderSettings(c: Chat, me: User = ada) {
    const updateChat = vi.fn(() => Promise.resolve())
    const removeMember = vi.fn(() => Promise.resolve())
    const leaveChat = vi.fn(() => Promise.resolve())
    render(
      <ChatSettingsDialog
        chat={c}
        me={me}
        users={users}
        updateChat={updateChat}
        removeMember={removeMember}
        leaveChat={leaveChat}
        onClose={() => {}}
      />,
    )
    return { updateChat, removeMember, leaveChat, user: userEvent.setup() }
  }

  it('lets an owner rename, set the topic, archive and remove members', async () => {
    const { updateChat, removeMember, user } = renderSettings(chat('c1', 'ops', [ada.id, bob.id, carol.id]))
    const dialog = screen.getByRole('dialog', { name: 'Chat settings' })

    const name = within(dialog).getByRole('textbox', { name: 'Name' })
    await user.clear(name)
    await user.type(name, 'releases')
    await user.type(within(dialog).getByRole('textbox', { name: 'Topic' }), 'Fridays')
    await user.click(within(dialog).getByRole('button', { name: 'Save' }))
    expect(updateChat).toHaveBeenCalledWith({ name: 'releases', topic: 'Fridays' })

    await user.click(within(dialog).getByRole('button', { name: 'Archive chat' }))
    expect(updateChat).toHaveBeenLastCalledWith({ archived: true })

    expect(within(dialog).queryByRole('button', { name: 'Remove Ada Lovelace' })).toBeNull()
    await user.click(within(dialog).getByRole('button', { name: 'Remove Carol' }))
    expect(removeMember).toHaveBeenCalledExactlyOnceWith(carol.id)
  })

  it('shows members without managing tools to a member who is no owner, and leaves after confirming', async () => {
    const { leaveChat, user } = renderSettings(chat('c1', 'ops', [bob.id, ada.id], 0, { kind: 'private', ownerIds: [bob.id] }), plainAda)

    expect(screen.queryByRole('textbox', { name: 'Name' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Archive chat' })).toBeNull()
    expect(screen.queryByRole('button', { name: /^Remove/ })).toBeNull()
    expect(screen.getByRole('region', { name: 'Members (2)' })).toBeDefined()

    await user.click(screen.getByRole('button', { name: 'Leave chat' }))
    const confirm = screen.getByRole('dialog', { name: 'Leave #ops?' })
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Cancel' }))
    expect(leaveChat).not.toHaveBeenCalled()
    await user.click(within(confirm).getByRole('button', { name: 'Leave' }))
    expect(leaveChat).toHaveBeenCalledOnce()
  })

  it('hides a DM (not "leave") after confirming', async () => {
    const { leaveChat, user } = renderSettings(chat('d1', '', [ada.id, bob.id], 0, { kind: 'dm', ownerIds: [] }), plainAda)

    expect(screen.queryByRole('button', { name: 'Leave chat' })).toBeNull()
    await user.click(screen.getByRole('button', { name: 'Hide conversation' }))
    const confirm = screen.getByRole('dialog', { name: 'Hide this conversation?' })
    expect(confirm.textContent).toContain('until someone writes in it again')
    await user.click(within(confirm).getByRole('button', { name: 'Hide' }))
    expect(leaveChat).toHaveBeenCalledOnce()
  })

  it('takes only unarchiving for an archived chat', () => {
    renderSettings(chat('c1', 'ops', [ada.id, bob.id], 0, { archived: true }))

    expect(screen.queryByRole('textbox', { name: 'Name' })).toBeNull()
    expect(screen.getByRole('button', { name: 'Unarchive chat' })).toBeDefined()
  })
})
