import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import type { Invite } from './InviteDialog'
import { ada, chat, FakeChatStore, FakeEventStream, member, snapshot } from './testFakes'
import { Workspace } from './Workspace'

const bob = member('u2', 'Bob', true)
const carol = member('u3', 'Carol')
const dan = member('u4', 'Dan')
const general = chat('c1', 'general', [ada.id, bob.id, carol.id])

function team() {
  return snapshot({
    chats: [general, chat('c2', 'random', [ada.id])],
    users: { [ada.id]: { ...ada, online: true }, [bob.id]: bob, [carol.id]: carol, [dan.id]: dan },
    views: { c1: { messages: [], pending: [], hasMoreBefore: false, hasMoreAfter: false, loading: false } },
  })
}

function renderWorkspace(
  store: FakeChatStore,
  props: Partial<Parameters<typeof Workspace>[0]> = {},
) {
  return render(
    <Workspace
      store={store}
      stream={new FakeEventStream()}
      chatId="c1"
      loadError={null}
      onRetryLoad={() => {}}
      createInvite={() => Promise.reject(new Error('not in this test'))}
      signOut={() => Promise.resolve()}
      {...props}
    />,
  )
}

describe('Workspace', () => {
  afterEach(() => window.history.replaceState(null, '', '/'))

  it('opens the chat in the URL and shows its name, members and presence', () => {
    const store = new FakeChatStore(team())
    const openChat = vi.spyOn(store, 'openChat')
    renderWorkspace(store)

    expect(openChat).toHaveBeenCalledExactlyOnceWith('c1')
    expect(screen.getByRole('heading', { level: 1, name: 'general' })).toBeDefined()
    const members = within(screen.getByRole('list', { name: 'Members' })).getAllByRole('listitem')
    expect(members.map((li) => li.textContent)).toEqual([
      'Ada Lovelace, online',
      'Bob, online',
      'Carol, offline',
    ])
    expect(document.title).toBe('#general · Herald')
  })

  it('searches messages from the app bar and opens a result at its message', async () => {
    const store = new FakeChatStore(team())
    const message = { id: 'm7', chatId: 'c1', authorId: bob.id, content: 'ship it', createdAt: 1 }
    const search = vi.spyOn(store, 'search').mockResolvedValue({
      results: [{ message, chatId: 'c1', snippet: 'ship it' }],
    })
    renderWorkspace(store)
    const user = userEvent.setup()

    const box = within(screen.getByRole('banner')).getByRole('combobox', { name: 'Search messages' })
    await user.type(box, 'ship')
    const option = await within(screen.getByRole('listbox', { name: 'Search results' })).findByRole('option')
    expect(search).toHaveBeenCalledWith({ q: 'ship', limit: 20 })
    await user.click(option)

    expect(window.location.pathname + window.location.search).toBe('/chats/c1?message=m7')
  })

  it('shows the connection state above everything else', () => {
    const stream = new FakeEventStream()
    renderWorkspace(new FakeChatStore(team()), { stream })

    const status = screen.getByRole('status')
    expect(screen.getByRole('banner').contains(status)).toBe(true)
    expect(status.textContent).toBe('Connecting…')
    act(() => stream.setInfo({ state: 'polling' }))
    expect(status.textContent).toBe('Polling')
  })

  it('shows why a chat could not be opened', async () => {
    const store = new FakeChatStore(team())
    vi.spyOn(store, 'openChat').mockRejectedValue(
      new ApiRequestError(404, 'not_found', 'Chat not found.'),
    )
    renderWorkspace(store, { chatId: 'gone' })

    expect((await screen.findByRole('alert')).textContent).toBe('Chat not found.')
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Chat not available')
    expect(screen.queryByRole('log')).toBeNull()
    expect(screen.queryByRole('textbox', { name: 'Message' })).toBeNull()
  })

  it('sends, reports typing, and shows who is typing', async () => {
    const store = new FakeChatStore(team())
    const send = vi.spyOn(store, 'send')
    const typed = vi.spyOn(store, 'typed')
    renderWorkspace(store)
    const user = userEvent.setup()

    await user.type(screen.getByRole('textbox', { name: 'Message' }), 'hi{Enter}')
    expect(typed).toHaveBeenCalledWith('c1')
    expect(send).toHaveBeenCalledExactlyOnceWith('c1', 'hi')

    act(() => store.update({ typing: { c1: [bob.id, carol.id] } }))
    expect(screen.getByText('Bob and Carol are typing…')).toBeDefined()
  })

  it('creates a chat with the chosen members and goes to it', async () => {
    const store = new FakeChatStore(team())
    const createChat = vi.spyOn(store, 'createChat')
    renderWorkspace(store, { chatId: null })
    const user = userEvent.setup()

    await user.click(screen.getByRole('button', { name: 'New chat' }))
    const dialog = screen.getByRole('dialog', { name: 'New chat' })
    const create = within(dialog).getByRole('button', { name: 'Create' })
    expect(create).toHaveProperty('disabled', true)
    await user.type(within(dialog).getByRole('textbox', { name: 'Chat name' }), ' design ')
    await user.click(within(dialog).getByRole('checkbox', { name: 'Dan', description: '@dan' }))
    await user.click(create)

    expect(createChat).toHaveBeenCalledExactlyOnceWith('design', [dan.id], { kind: 'channel' })
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(window.location.pathname).toBe('/chats/c-new')
  })

  it('keeps the New chat dialog open with the error when creating fails', async () => {
    const store = new FakeChatStore(team())
    vi.spyOn(store, 'createChat').mockRejectedValue(
      new ApiRequestError(400, 'invalid', 'name is 81 characters; the limit is 80.'),
    )
    renderWorkspace(store, { chatId: null })
    const user = userEvent.setup()

    await user.click(screen.getByRole('button', { name: 'New chat' }))
    await user.type(screen.getByRole('textbox', { name: 'Chat name' }), 'x')
    await user.click(screen.getByRole('button', { name: 'Create' }))

    expect((await screen.findByRole('alert')).textContent).toBe(
      'name is 81 characters; the limit is 80.',
    )
    expect(screen.getByRole('dialog', { name: 'New chat' })).toBeDefined()
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('adds a member from those not in the chat yet', async () => {
    const store = new FakeChatStore(team())
    const addMember = vi.spyOn(store, 'addMember')
    renderWorkspace(store)
    const user = userEvent.setup()

    await user.click(screen.getByRole('button', { name: 'Add member' }))
    const dialog = screen.getByRole('dialog', { name: 'Add someone to #general' })
    const person = within(dialog).getByRole('combobox', { name: 'Person' })
    expect(
      within(person)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['Dan (@dan)'])
    await user.click(within(dialog).getByRole('button', { name: 'Add' }))

    expect(addMember).toHaveBeenCalledExactlyOnceWith('c1', dan.id)
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('gives admins an invite link to copy', async () => {
    const invite: Invite = {
      code: 'abc',
      url: 'http://team.example/join/abc',
      expiresAt: 1_800_000_000_000,
      maxUses: 100,
    }
    const createInvite = vi.fn(() => Promise.resolve(invite))
    vi.stubGlobal('isSecureContext', true)
    renderWorkspace(new FakeChatStore(team()), { createInvite })
    // Replaces navigator.clipboard with an in-memory one.
    const user = userEvent.setup()

    await user.click(screen.getByRole('button', { name: 'Invite people' }))
    const dialog = screen.getByRole('dialog', { name: 'Invite people' })
    const link = await within(dialog).findByRole('textbox', { name: 'Invite link' })
    expect(link).toHaveProperty('value', invite.url)
    expect(dialog.textContent).toContain('Anyone with this link can create an account on this server (up to 100 people)')
    await user.click(within(dialog).getByRole('button', { name: 'Copy' }))

    expect(await within(dialog).findByText('Copied.')).toBeDefined()
    expect(await navigator.clipboard.readText()).toBe(invite.url)
    expect(createInvite).toHaveBeenCalledOnce()
  })

  it("shows the server's certificate fingerprint with the invite, and copies the link that carries it", async () => {
    const fp = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89'
    const invite: Invite = {
      code: 'abc',
      url: `https://192.168.1.20:7878/join/abc#sha256=${fp}`,
      expiresAt: 1_800_000_000_000,
      fingerprint: fp,
    }
    vi.stubGlobal('isSecureContext', true)
    renderWorkspace(new FakeChatStore(team()), { createInvite: () => Promise.resolve(invite) })
    const user = userEvent.setup()

    await user.click(screen.getByRole('button', { name: 'Invite people' }))
    const dialog = screen.getByRole('dialog', { name: 'Invite people' })
    const note = await within(dialog).findByText(/certificate fingerprint \(SHA-256\)/)
    expect(note.querySelector('code')?.textContent).toBe(fp)
    await user.click(within(dialog).getByRole('button', { name: 'Copy' }))
    expect(await navigator.clipboard.readText()).toBe(invite.url)
  })

  it('has no Invite people button for members', () => {
    const store = new FakeChatStore({ ...team(), me: { ...ada, role: 'member' } })
    renderWorkspace(store)

    expect(screen.queryByRole('button', { name: 'Invite people' })).toBeNull()
  })

  it('stays signed in and says why when signing out fails', async () => {
    const signOut = vi.fn(() => Promise.reject(new Error('Failed to fetch')))
    renderWorkspace(new FakeChatStore(team()), { signOut })

    await userEvent.setup().click(screen.getByRole('button', { name: 'Sign out' }))

    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not sign out: Failed to fetch',
    )
    expect(screen.getByRole('button', { name: 'Sign out' })).toHaveProperty('disabled', false)
  })

  it('offers to retry when the chats could not be loaded', async () => {
    const onRetryLoad = vi.fn<() => void>()
    renderWorkspace(new FakeChatStore(team()), { loadError: 'Failed to fetch', onRetryLoad })

    expect(screen.getByRole('alert').textContent).toBe('Could not load your chats: Failed to fetch')
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }))
    expect(onRetryLoad).toHaveBeenCalledOnce()
  })

  it('shows the settings page in the main area at /settings', async () => {
    const store = new FakeChatStore(team())
    const pagesApi = {
      getPreferences: vi.fn(() =>
        Promise.resolve({
          sounds: true,
          volume: 0.7,
          native: true,
          criticalBreaksThrough: true,
          toastSeconds: 6,
          breakThrough: 'off' as const,
          soundByKind: {},
          kinds: {},
          mutedChats: [],
        }),
      ),
      putPreferences: vi.fn(),
      getTask: vi.fn(),
    }
    renderWorkspace(store, { chatId: null, settings: true, pagesApi })

    expect(screen.getByRole('heading', { level: 1, name: 'Notification settings' })).toBeDefined()
    expect(screen.getByRole('link', { name: 'Settings' }).getAttribute('aria-current')).toBe('page')
    expect(await screen.findByRole('checkbox', { name: 'Mute #general' })).toBeDefined()
  })

  it('shows a task’s results at /tasks/{id}', async () => {
    const store = new FakeChatStore(team())
    const getTask = vi.fn((id: string) =>
      Promise.resolve({ id, name: 'Nightly build', status: 'succeeded' as const, ownerId: ada.id, createdAt: 0 }),
    )
    renderWorkspace(store, {
      chatId: null,
      taskId: 't9',
      pagesApi: { getTask, getPreferences: vi.fn(), putPreferences: vi.fn() },
    })

    expect(await screen.findByRole('heading', { level: 1, name: 'Nightly build' })).toBeDefined()
    expect(getTask).toHaveBeenCalledExactlyOnceWith('t9')
  })
})
