import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Sidebar } from './Sidebar'
import { ada, chat, member } from './testFakes'

const chats = [
  chat('c1', 'general', ['u1'], 3),
  chat('c2', 'random', ['u1']),
  chat('c3', 'busy', ['u1'], 1500),
]

function renderSidebar(props: Partial<Parameters<typeof Sidebar>[0]> = {}) {
  return render(
    <Sidebar
      me={ada}
      chats={chats}
      activeChatId="c2"
      onNewChat={() => {}}
      onSignOut={() => {}}
      signingOut={false}
      {...props}
    />,
  )
}

describe('Sidebar', () => {
  afterEach(() => window.history.replaceState(null, '', '/'))

  it('names each chat link by the chat name alone; the unread count is its description', () => {
    renderSidebar()

    const general = screen.getByRole('link', { name: 'general' })
    expect(general.getAttribute('href')).toBe('/chats/c1')
    expect(screen.getByRole('link', { name: 'general', description: '3 unread' })).toBe(general)

    const random = screen.getByRole('link', { name: 'random' })
    expect(random.getAttribute('aria-describedby')).toBeNull()
    expect(random.getAttribute('aria-current')).toBe('page')

    // The server caps counts at 999.
    expect(screen.getByRole('link', { name: 'busy', description: '999+ unread' })).toBeDefined()
  })

  it('lists the chats under a Chats navigation landmark', () => {
    renderSidebar()

    const nav = screen.getByRole('navigation', { name: 'Chats' })
    expect(
      within(nav)
        .getAllByRole('link')
        .map((link) => link.textContent),
    ).toEqual(['#general', '#random', '#busy'])
  })

  it('follows a chat link without reloading the page', async () => {
    renderSidebar()

    await userEvent.setup().click(screen.getByRole('link', { name: 'general' }))

    expect(window.location.pathname).toBe('/chats/c1')
  })

  it('shows the user, New chat, Sign out, and Invite people only when asked to', async () => {
    const onNewChat = vi.fn<() => void>()
    const onSignOut = vi.fn<() => void>()
    const { rerender } = renderSidebar({ onNewChat, onSignOut })
    const user = userEvent.setup()

    expect(screen.getByText('Ada Lovelace')).toBeDefined()
    expect(screen.getByText('@ada')).toBeDefined()
    expect(screen.queryByRole('button', { name: 'Invite people' })).toBeNull()

    await user.click(screen.getByRole('button', { name: 'New chat' }))
    await user.click(screen.getByRole('button', { name: 'Sign out' }))
    expect(onNewChat).toHaveBeenCalledOnce()
    expect(onSignOut).toHaveBeenCalledOnce()

    const onInvite = vi.fn<() => void>()
    rerender(
      <Sidebar
        me={ada}
        chats={chats}
        activeChatId={null}
        onNewChat={onNewChat}
        onInvite={onInvite}
        onSignOut={onSignOut}
        signingOut={true}
      />,
    )
    await user.click(screen.getByRole('button', { name: 'Invite people' }))
    expect(onInvite).toHaveBeenCalledOnce()
    expect(screen.getByRole('button', { name: 'Sign out' })).toHaveProperty('disabled', true)
  })

  it('says when there are no chats', () => {
    renderSidebar({ chats: [] })

    expect(screen.getByText('No chats yet.')).toBeDefined()
    expect(within(screen.getByRole('navigation', { name: 'Chats' })).queryByRole('link')).toBeNull()
  })

  it('links to the settings, marked current while they are open', () => {
    renderSidebar({ chats: [], settingsOpen: true })

    const link = screen.getByRole('link', { name: 'Settings' })
    expect(link.getAttribute('href')).toBe('/settings')
    expect(link.getAttribute('aria-current')).toBe('page')
  })

  it('links admins, and only admins, to the admin page', () => {
    const { rerender } = renderSidebar({ chats: [], adminOpen: true })
    const link = screen.getByRole('link', { name: 'Admin' })
    expect(link.getAttribute('href')).toBe('/admin/people')
    expect(link.getAttribute('aria-current')).toBe('page')
    rerender(
      <Sidebar me={{ ...ada, role: 'member' }} chats={[]} activeChatId={null} onNewChat={() => {}} onSignOut={() => {}} signingOut={false} />,
    )
    expect(screen.queryByRole('link', { name: 'Admin' })).toBeNull()
  })

  it('puts Settings and Sign out on their own row, below the name', () => {
    const { container } = renderSidebar({ chats: [] })
    const footer = container.querySelector('.sidebar-me') as HTMLElement
    const name = footer.querySelector('.me-name') as HTMLElement
    const actions = footer.querySelector('.me-actions') as HTMLElement
    expect(name.textContent).toContain(ada.username)
    expect(actions.contains(name)).toBe(false)
    expect(within(actions).getByRole('link', { name: 'Settings' })).toBeDefined()
    expect(within(actions).getByRole('button', { name: 'Sign out' })).toBeDefined()
    expect(name.compareDocumentPosition(actions) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
  })

  describe('sections', () => {
    const bob = member('u2', 'Bob', true)
    const carol = member('u3', 'Carol')
    const dan = { ...member('u4', 'Dan', true), status: 'busy' as const }
    const users = { [ada.id]: { ...ada, online: true }, [bob.id]: bob, [carol.id]: carol, [dan.id]: dan }
    const sectioned = [
      chat('c1', 'general', ['u1', 'u2'], 2),
      chat('c2', 'secret', ['u1', 'u2'], 0, { kind: 'private' }),
      chat('d1', '', ['u1', 'u2'], 1, { kind: 'dm', ownerIds: [] }),
      chat('d2', '', ['u1', 'u3'], 0, { kind: 'dm', ownerIds: [] }),
      chat('d3', '', ['u1', 'u4'], 0, { kind: 'dm', ownerIds: [] }),
      chat('d4', '', ['u1', 'u2', 'u3'], 0, { kind: 'dm', ownerIds: [] }),
      chat('c3', 'old', ['u1'], 0, { archived: true }),
    ]

    function section(name: string) {
      return screen.getByRole('region', { name })
    }

    it('lists channels and private chats, DMs by their people, each named alone and described', () => {
      renderSidebar({ chats: sectioned, users })

      const channels = section('Channels')
      expect(within(channels).getAllByRole('link').map((l) => l.textContent)).toEqual(['#general', 'secret'])
      expect(within(channels).getByRole('link', { name: 'secret', description: 'private' })).toBeDefined()
      expect(within(channels).getByRole('link', { name: 'general', description: '2 unread' })).toBeDefined()

      const dms = section('Direct messages')
      expect(within(dms).getByRole('link', { name: 'Bob', description: 'online, 1 unread' })).toBeDefined()
      expect(within(dms).getByRole('link', { name: 'Carol', description: 'offline' })).toBeDefined()
      expect(within(dms).getByRole('link', { name: 'Dan', description: 'busy' })).toBeDefined()
      expect(within(dms).getByRole('link', { name: 'Bob, Carol', description: '3 people' })).toBeDefined()
      // Shapes, not colour alone.
      const marks = [...dms.querySelectorAll('.presence-marker')].map((el) => el.getAttribute('class'))
      expect(marks).toEqual(['presence-marker pm-online', 'presence-marker pm-offline', 'presence-marker pm-busy'])
    })

    it('shows a DM’s person by their avatar with its presence marker, a group DM’s people stacked', () => {
      renderSidebar({ chats: sectioned, users })
      const dms = section('Direct messages')

      const bobLink = within(dms).getByRole('link', { name: 'Bob' })
      const avatar = bobLink.querySelector('.member-avatar')
      expect(avatar?.querySelector('.user-avatar.initials')?.getAttribute('data-initials')).toBe('B')
      expect(avatar?.querySelector('.presence-marker')?.getAttribute('class')).toBe('presence-marker pm-online')
      const group = within(dms).getByRole('link', { name: 'Bob, Carol' }).querySelector('.group-avatar')
      expect([...(group?.querySelectorAll('.user-avatar') ?? [])].map((el) => el.getAttribute('data-initials'))).toEqual(['B', 'C'])
    })

    it('says a DM’s person is deactivated, in words, without a presence', () => {
      const gone = { ...carol, deactivated: true }
      renderSidebar({ chats: sectioned, users: { ...users, [carol.id]: gone } })
      const link = within(section('Direct messages')).getByRole('link', { name: 'Carol', description: 'deactivated' })

      expect(link.textContent).toContain('deactivated')
      expect(link.querySelector('.presence-marker')).toBeNull()
    })

    it('counts mentions beside the unread count, and says both in the description', () => {
      const mentioned = [
        chat('c1', 'general', ['u1', 'u2'], 3, { mentions: 1 }),
        chat('c2', 'ops', ['u1'], 0, { mentions: 2 }),
        chat('d1', '', ['u1', 'u2'], 1, { kind: 'dm', ownerIds: [], mentions: 1 }),
      ]
      renderSidebar({ chats: mentioned, users, activeChatId: null })

      const general = screen.getByRole('link', { name: 'general', description: '3 unread, 1 mention' })
      expect(general.closest('li')?.querySelector('.badges')?.textContent).toBe('@13')
      expect(screen.getByRole('link', { name: 'ops', description: '2 mentions' })).toBeDefined()
      expect(screen.getByRole('link', { name: 'Bob', description: 'online, 1 unread, 1 mention' })).toBeDefined()
    })

    it('dims muted chats and describes them as muted, not by colour alone', () => {
      renderSidebar({ chats: sectioned, users, mutedChats: ['c1', 'd2'] })

      const general = screen.getByRole('link', { name: 'general', description: '2 unread, muted' })
      expect(general.closest('li')?.classList.contains('muted-chat')).toBe(true)
      expect(general.querySelector('.muted-mark')).not.toBeNull()
      expect(screen.getByRole('link', { name: 'Carol', description: 'offline, muted' })).toBeDefined()
      const secret = screen.getByRole('link', { name: 'secret', description: 'private' })
      expect(secret.closest('li')?.classList.contains('muted-chat')).toBe(false)
      expect(secret.querySelector('.muted-mark')).toBeNull()
    })

    it('keeps archived chats behind a disclosure, collapsed by default', async () => {
      renderSidebar({ chats: sectioned, users, activeChatId: null })
      const toggle = screen.getByRole('button', { name: 'Archived (1)' })

      expect(toggle.getAttribute('aria-expanded')).toBe('false')
      expect(screen.queryByRole('link', { name: 'old' })).toBeNull()
      await userEvent.setup().click(toggle)
      expect(toggle.getAttribute('aria-expanded')).toBe('true')
      expect(screen.getByRole('link', { name: 'old' })).toBeDefined()
      expect(within(section('Channels')).queryByRole('link', { name: 'old' })).toBeNull()
    })

    it('shows the archived section open while its chat is the one open', () => {
      renderSidebar({ chats: sectioned, users, activeChatId: 'c3' })

      expect(screen.getByRole('link', { name: 'old' }).getAttribute('aria-current')).toBe('page')
    })

    it('offers Browse channels and Direct message when given', async () => {
      const onBrowse = vi.fn<() => void>()
      const onNewMessage = vi.fn<() => void>()
      renderSidebar({ onBrowse, onNewMessage })
      const user = userEvent.setup()

      await user.click(screen.getByRole('button', { name: 'Browse channels' }))
      await user.click(screen.getByRole('button', { name: 'Direct message' }))

      expect(onBrowse).toHaveBeenCalledOnce()
      expect(onNewMessage).toHaveBeenCalledOnce()
    })
  })
})
