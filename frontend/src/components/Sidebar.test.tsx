import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Sidebar } from './Sidebar'
import { ada, chat } from './testFakes'

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
})
