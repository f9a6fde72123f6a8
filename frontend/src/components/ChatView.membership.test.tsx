import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Chat, User } from '../api/types'
import { useChatStore } from '../hooks/useChatStore'
import type { Snapshot } from '../state/types'
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
