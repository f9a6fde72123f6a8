import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiRequestError, type AccountPageParams } from '../../api/client'
import type { Account, AuditEntry, Invite, TeamSettings, User } from '../../api/types'
import { ada, FakeEventStream, member } from '../testFakes'
import { AdminPage } from './AdminPage'
import type { AdminApi } from './adminApi'
import { SEARCH_DEBOUNCE_MS } from './PeopleSection'

const me: Account = { ...ada, online: true }
const bob: Account = { ...member('u2', 'Bob'), lastSeenAt: Date.UTC(2026, 0, 2, 9, 30) }
const carol: Account = { ...member('u3', 'Carol'), online: true }
const buildBot: Account = { ...member('b1', 'Build Bot'), kind: 'bot', username: 'build' }

/** A fake server for the admin routes: accounts filtered like the real one. */
function fakeApi(accounts: Account[] = [me, bob, carol, buildBot]) {
  let held = [...accounts]
  const setUser = (id: string, change: Partial<User>): User => {
    const found = held.find((a) => a.id === id)
    if (!found) throw new ApiRequestError(404, 'not_found', 'No such user.')
    const next = { ...found, ...change }
    held = held.map((a) => (a.id === id ? next : a))
    return asUser(next)
  }
  const api = {
    listAccounts: vi.fn(({ q = '', after, limit = 50 }: AccountPageParams = {}) => {
      const match = held.filter(
        (a) => !q || a.username.includes(q.toLowerCase()) || a.displayName.toLowerCase().includes(q.toLowerCase()),
      )
      const start = after ? match.findIndex((a) => a.id === after) + 1 : 0
      return Promise.resolve({ users: match.slice(start, start + limit), hasMore: start + limit < match.length })
    }),
    setRole: vi.fn((id: string, role: 'admin' | 'member') => {
      if (id === me.id && role === 'member') {
        return Promise.reject(
          new ApiRequestError(409, 'conflict', 'The team needs at least one admin: make someone else admin first.'),
        )
      }
      return Promise.resolve(setUser(id, { role }))
    }),
    setDeactivated: vi.fn((id: string, deactivated: boolean) => Promise.resolve(setUser(id, { deactivated }))),
    createPasswordReset: vi.fn(() =>
      Promise.resolve({ link: 'http://herald.test/reset/tok', expiresAt: Date.UTC(2026, 0, 3, 12, 0) }),
    ),
    createInvite: vi.fn((options: { maxUses?: number; expiresInHours?: number } = {}) =>
      Promise.resolve({
        id: 'i9',
        code: 'WXYZ1234',
        url: 'http://herald.test/join/WXYZ1234',
        expiresAt: Date.UTC(2026, 0, 9),
        maxUses: options.maxUses ?? 100,
      }),
    ),
    listInvites: vi.fn(() => Promise.resolve<Invite[]>([])),
    revokeInvite: vi.fn(() => Promise.resolve()),
    listAudit: vi.fn<(before?: string) => Promise<{ entries: AuditEntry[]; hasMore: boolean }>>(() =>
      Promise.resolve({ entries: [], hasMore: false }),
    ),
    getTeam: vi.fn(() => Promise.resolve<TeamSettings>({ name: 'Herald', channelCreation: 'everyone' })),
    updateTeam: vi.fn((change: Partial<TeamSettings>) =>
      Promise.resolve<TeamSettings>({ name: 'Herald', channelCreation: 'everyone', ...change }),
    ),
    uploadTeamIcon: vi.fn(() =>
      Promise.resolve<TeamSettings>({ name: 'Herald', iconUrl: '/api/team/icon?v=1', channelCreation: 'everyone' }),
    ),
    deleteTeamIcon: vi.fn(() => Promise.resolve<TeamSettings>({ name: 'Herald', channelCreation: 'everyone' })),
    createBot: vi.fn((name: string, avatar?: string) => {
      const bot: Account = { ...member(`b${held.length + 1}`, name), kind: 'bot', username: name.toLowerCase().replace(/\W+/g, '-') }
      if (avatar) bot.avatar = avatar
      held = [...held, bot]
      return Promise.resolve({ bot: asUser(bot), token: 'new-bot-token' })
    }),
    updateBot: vi.fn((id: string, change: { displayName?: string; avatar?: string }) => Promise.resolve(setUser(id, change))),
    rotateBotToken: vi.fn((id: string) => Promise.resolve({ bot: setUser(id, {}), token: 'secret-token', revoked: 1 })),
    revokeBotTokens: vi.fn(() => Promise.resolve({ revoked: 2 })),
    deleteBot: vi.fn(() => Promise.resolve()),
  } satisfies AdminApi
  return api
}

/** The User an answer carries: an Account without its presence. */
function asUser(account: Account): User {
  const user: Partial<Account> = { ...account }
  delete user.online
  delete user.lastSeenAt
  return user as User
}

const users = Object.fromEntries([me, bob, carol, buildBot].map((u) => [u.id, u]))

function renderPage(section: 'people' | 'invites' | 'audit' | 'team', api = fakeApi(), team?: TeamSettings) {
  const stream = new FakeEventStream()
  const view = render(<AdminPage api={api} stream={stream} section={section} me={ada} users={users} team={team} />)
  return { api, stream, ...view }
}

const people = () => screen.getByRole('list', { name: 'People' })
const row = (name: string) => {
  const item = within(people())
    .getAllByRole('listitem')
    .find((li) => li.textContent?.includes(name))
  if (!item) throw new Error(`no row for ${name}`)
  return item
}

describe('AdminPage', () => {
  afterEach(() => vi.useRealTimers())

  it('lists every account with role, kind, state and last seen', async () => {
    renderPage('people')
    expect(await within(await screen.findByRole('list', { name: 'People' })).findAllByRole('listitem')).toHaveLength(4)
    expect(row('Ada Lovelace').textContent).toContain('@ada (you)')
    expect(row('Ada Lovelace').textContent).toContain('Admin')
    expect(row('Ada Lovelace').textContent).toContain('Online')
    expect(row('Bob').textContent).toContain('Member')
    expect(row('Bob').textContent).toMatch(/Last seen/)
    expect(row('Build Bot').textContent).toContain('Bot')
    expect(screen.getByRole('link', { name: 'People' }).getAttribute('aria-current')).toBe('page')
  })

  it('searches as the admin types, once they pause', async () => {
    const { api } = renderPage('people')
    await screen.findByText('Carol')
    const user = userEvent.setup()
    await user.type(screen.getByRole('searchbox', { name: 'Search people' }), 'car')
    await vi.waitFor(() => expect(within(people()).getAllByRole('listitem')).toHaveLength(1), {
      timeout: SEARCH_DEBOUNCE_MS * 5,
    })
    expect(row('Carol')).toBeDefined()
    // One request for the page, one for the words once typing paused: not one per key.
    expect(api.listAccounts.mock.calls.map(([p]) => p?.q)).toEqual(['', 'car'])

    await user.clear(screen.getByRole('searchbox', { name: 'Search people' }))
    await user.type(screen.getByRole('searchbox', { name: 'Search people' }), 'nobody')
    expect(await screen.findByText('Nobody matches “nobody”.', {}, { timeout: SEARCH_DEBOUNCE_MS * 5 })).toBeDefined()
  })

  it('pages with Load more people', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ ...member(`m${String(i).padStart(2, '0')}`, `Person ${i}`) }))
    renderPage('people', fakeApi([me, ...many]))
    await screen.findByText('Person 0')
    expect(within(people()).getAllByRole('listitem')).toHaveLength(50)
    await userEvent.setup().click(screen.getByRole('button', { name: 'Load more people' }))
    await vi.waitFor(() => expect(within(people()).getAllByRole('listitem')).toHaveLength(61))
    expect(screen.queryByRole('button', { name: 'Load more people' })).toBeNull()
  })

  it('deactivates after a confirmation, walked with the keyboard, and reactivates', async () => {
    const { api } = renderPage('people')
    await screen.findByText('Bob')
    const user = userEvent.setup()
    within(row('Bob')).getByRole('button', { name: 'Actions for Bob' }).focus()
    await user.keyboard('{ArrowDown}')
    const menu = screen.getByRole('menu', { name: 'Actions for Bob' })
    expect(document.activeElement?.textContent).toBe('Make admin')
    await user.keyboard('{End}')
    expect(document.activeElement?.textContent).toBe('Deactivate…')
    await user.keyboard('{Enter}')
    expect(menu.isConnected).toBe(false)

    const dialog = screen.getByRole('dialog', { name: 'Deactivate Bob?' })
    expect(dialog.textContent).toContain('signed out everywhere at once')
    await user.click(within(dialog).getByRole('button', { name: 'Deactivate' }))
    expect(api.setDeactivated).toHaveBeenCalledWith('u2', true)
    expect(await screen.findByText('Bob was deactivated.')).toBeDefined()
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(row('Bob').textContent).toContain('Deactivated')

    await user.click(within(row('Bob')).getByRole('button', { name: 'Actions for Bob' }))
    expect(within(screen.getByRole('menu')).getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['Reactivate…'])
    await user.click(screen.getByRole('menuitem', { name: 'Reactivate…' }))
    await user.click(within(screen.getByRole('dialog', { name: 'Reactivate Bob?' })).getByRole('button', { name: 'Reactivate' }))
    expect(await screen.findByText('Bob was reactivated.')).toBeDefined()
    expect(row('Bob').textContent).not.toContain('Deactivated')
  })

  it('shows the server refusing in the dialog, which stays open', async () => {
    const api = fakeApi()
    api.setDeactivated.mockRejectedValueOnce(new ApiRequestError(409, 'conflict', 'The team needs at least one active admin.'))
    renderPage('people', api)
    await screen.findByText('Carol')
    const user = userEvent.setup()
    await user.click(within(row('Carol')).getByRole('button', { name: 'Actions for Carol' }))
    await user.click(screen.getByRole('menuitem', { name: 'Deactivate…' }))
    const dialog = screen.getByRole('dialog', { name: 'Deactivate Carol?' })
    await user.click(within(dialog).getByRole('button', { name: 'Deactivate' }))
    expect((await within(dialog).findByRole('alert')).textContent).toBe('The team needs at least one active admin.')
    expect(dialog.isConnected).toBe(true)
  })

  it('changes roles and says clearly why the last admin cannot step down', async () => {
    renderPage('people')
    await screen.findByText('Carol')
    const user = userEvent.setup()
    await user.click(within(row('Carol')).getByRole('button', { name: 'Actions for Carol' }))
    await user.click(screen.getByRole('menuitem', { name: 'Make admin' }))
    expect((await screen.findByRole('status')).textContent).toBe('Carol is an admin now.')
    expect(row('Carol').textContent).toContain('Admin')

    await user.click(within(row('Ada Lovelace')).getByRole('button', { name: 'Actions for Ada Lovelace' }))
    // Nobody deactivates themselves: the menu does not offer it.
    expect(screen.queryByRole('menuitem', { name: 'Deactivate…' })).toBeNull()
    await user.click(screen.getByRole('menuitem', { name: 'Remove admin' }))
    expect((await screen.findByRole('alert')).textContent).toBe(
      "Could not change Ada Lovelace's role: The team needs at least one admin: make someone else admin first.",
    )
  })

  it('makes a password-reset link and shows it with Copy', async () => {
    const { api } = renderPage('people')
    await screen.findByText('Bob')
    const user = userEvent.setup()
    await user.click(within(row('Bob')).getByRole('button', { name: 'Actions for Bob' }))
    await user.click(screen.getByRole('menuitem', { name: 'Reset password…' }))
    const dialog = screen.getByRole('dialog', { name: 'Password reset link for Bob' })
    const link = await within(dialog).findByRole('textbox', { name: 'Reset link' })
    expect((link as HTMLInputElement).value).toBe('http://herald.test/reset/tok')
    expect(dialog.textContent).toMatch(/once, until .* \(24 hours\)/)
    expect(api.createPasswordReset).toHaveBeenCalledWith('u2')
    await user.click(within(dialog).getByRole('button', { name: 'Copy' }))
    await vi.waitFor(() => expect(within(dialog).getByText(/^(Copied\.|Could not copy: select the text and copy it\.)$/)).toBeDefined())
    await user.click(within(dialog).getByRole('button', { name: 'Done' }))
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('renames a bot and rotates its token, shown once', async () => {
    const { api } = renderPage('people')
    await screen.findByText('Build Bot')
    const user = userEvent.setup()
    await user.click(within(row('Build Bot')).getByRole('button', { name: 'Actions for Build Bot' }))
    expect(within(screen.getByRole('menu')).getAllByRole('menuitem').map((i) => i.textContent)).toEqual([
      'Rename…',
      'Set avatar…',
      'Rotate token…',
      'Revoke tokens…',
      'Delete bot…',
    ])
    await user.click(screen.getByRole('menuitem', { name: 'Rename…' }))
    const rename = screen.getByRole('dialog', { name: 'Rename Build Bot' })
    await user.clear(within(rename).getByRole('textbox', { name: 'Bot name' }))
    await user.type(within(rename).getByRole('textbox', { name: 'Bot name' }), 'Deploy Bot')
    await user.click(within(rename).getByRole('button', { name: 'Rename' }))
    expect(api.updateBot).toHaveBeenCalledWith('b1', { displayName: 'Deploy Bot' })
    expect(await screen.findByText('Deploy Bot')).toBeDefined()

    await user.click(within(row('Deploy Bot')).getByRole('button', { name: 'Actions for Deploy Bot' }))
    await user.click(screen.getByRole('menuitem', { name: 'Rotate token…' }))
    await user.click(
      within(screen.getByRole('dialog', { name: "Rotate Deploy Bot's token?" })).getByRole('button', { name: 'Rotate token' }),
    )
    const shown = await screen.findByRole('dialog', { name: 'New token for Deploy Bot' })
    expect(within(shown).getByRole<HTMLInputElement>('textbox', { name: 'Bot token' }).value).toBe('secret-token')
    // Done: focus goes back to the row's Actions button, where the chain of dialogs started.
    await user.click(within(shown).getByRole('button', { name: 'Done' }))
    expect(document.activeElement).toBe(within(row('Deploy Bot')).getByRole('button', { name: 'Actions for Deploy Bot' }))
  })

  it('adds a bot with an avatar and shows its token once', async () => {
    const { api } = renderPage('people')
    await screen.findByText('Build Bot')
    const user = userEvent.setup()
    const open = screen.getByRole('button', { name: 'Add bot' })
    await user.click(open)
    const add = screen.getByRole('dialog', { name: 'Add a bot' })
    expect(within(add).getByRole('button', { name: 'Add bot' })).toHaveProperty('disabled', true)
    await user.type(within(add).getByRole('textbox', { name: 'Bot name' }), 'Deploy Bot')
    await user.type(within(add).getByRole('textbox', { name: 'Avatar (optional)' }), ' 🚀 ')
    await user.click(within(add).getByRole('button', { name: 'Add bot' }))
    expect(api.createBot).toHaveBeenCalledExactlyOnceWith('Deploy Bot', '🚀')

    const shown = await screen.findByRole('dialog', { name: 'Deploy Bot is added' })
    expect(within(shown).getByRole<HTMLInputElement>('textbox', { name: 'Bot token' }).value).toBe('new-bot-token')
    expect(shown.textContent).toContain('only time the token is shown')
    expect(shown.textContent).toContain('@deploy-bot')
    await user.click(within(shown).getByRole('button', { name: 'Done' }))
    expect(screen.queryByRole('dialog')).toBeNull()
    // Shown once: nowhere on the page any more; the bot is listed.
    expect(document.body.innerHTML).not.toContain('new-bot-token')
    expect(await screen.findByText('Deploy Bot')).toBeDefined()
    expect(row('Deploy Bot').textContent).toContain('🚀')
    expect(document.activeElement).toBe(open)
  })

  it('keeps Add a bot open with the server refusing the name or avatar', async () => {
    const api = fakeApi()
    api.createBot.mockRejectedValueOnce(new ApiRequestError(400, 'invalid', 'avatar must be an https:// URL or a short text such as an emoji.'))
    renderPage('people', api)
    await screen.findByText('Build Bot')
    const user = userEvent.setup()
    await user.click(screen.getByRole('button', { name: 'Add bot' }))
    const add = screen.getByRole('dialog', { name: 'Add a bot' })
    await user.type(within(add).getByRole('textbox', { name: 'Bot name' }), 'Ops')
    await user.type(within(add).getByRole('textbox', { name: 'Avatar (optional)' }), 'http://x.test/a.png')
    await user.click(within(add).getByRole('button', { name: 'Add bot' }))
    expect((await within(add).findByRole('alert')).textContent).toBe('avatar must be an https:// URL or a short text such as an emoji.')
    expect(add.isConnected).toBe(true)
  })

  it("sets and removes a bot's avatar", async () => {
    const { api } = renderPage('people')
    await screen.findByText('Build Bot')
    const user = userEvent.setup()
    await user.click(within(row('Build Bot')).getByRole('button', { name: 'Actions for Build Bot' }))
    await user.click(screen.getByRole('menuitem', { name: 'Set avatar…' }))
    const dialog = screen.getByRole('dialog', { name: 'Avatar for Build Bot' })
    await user.type(within(dialog).getByRole('textbox', { name: 'Avatar (optional)' }), '🔧')
    await user.click(within(dialog).getByRole('button', { name: 'Save avatar' }))
    expect(api.updateBot).toHaveBeenCalledExactlyOnceWith('b1', { avatar: '🔧' })
    expect((await screen.findByRole('status')).textContent).toBe("Build Bot's avatar is saved.")
    expect(row('Build Bot').textContent).toContain('🔧')

    await user.click(within(row('Build Bot')).getByRole('button', { name: 'Actions for Build Bot' }))
    await user.click(screen.getByRole('menuitem', { name: 'Set avatar…' }))
    const again = screen.getByRole('dialog', { name: 'Avatar for Build Bot' })
    expect(within(again).getByRole<HTMLInputElement>('textbox', { name: 'Avatar (optional)' }).value).toBe('🔧')
    await user.clear(within(again).getByRole('textbox', { name: 'Avatar (optional)' }))
    await user.click(within(again).getByRole('button', { name: 'Save avatar' }))
    expect(api.updateBot).toHaveBeenLastCalledWith('b1', { avatar: '' })
    expect((await screen.findByRole('status')).textContent).toBe("Build Bot's avatar is removed.")
  })

  it('follows USER_UPDATED live', async () => {
    const { stream } = renderPage('people')
    await screen.findByText('Bob')
    const user = { ...asUser(bob), displayName: 'Robert', deactivated: true }
    act(() => stream.emit({ id: 'e1', type: 'USER_UPDATED', user, timestamp: 1 }))
    expect(row('Robert').textContent).toContain('Deactivated')
  })

  it('creates invites with a number of uses and an expiry, and lists and revokes them', async () => {
    const api = fakeApi()
    const invite: Invite = {
      id: 'i1',
      hint: 'ABCD',
      createdBy: ada.id,
      createdAt: 1,
      expiresAt: Date.UTC(2026, 0, 9),
      maxUses: 100,
      uses: 3,
    }
    api.listInvites.mockResolvedValue([invite])
    renderPage('invites', api)
    const list = await screen.findByRole('list', { name: 'Active invites' })
    expect(list.textContent).toContain('ABCD…')
    expect(list.textContent).toContain('97 of 100 uses left')
    expect(list.textContent).toContain('by Ada Lovelace')

    const user = userEvent.setup()
    expect(screen.getByRole('radio', { name: 'Up to 100 people' })).toHaveProperty('checked', true)
    await user.click(screen.getByRole('radio', { name: 'Custom' }))
    await user.clear(screen.getByRole('spinbutton', { name: 'Number of people' }))
    await user.type(screen.getByRole('spinbutton', { name: 'Number of people' }), '5')
    await user.selectOptions(screen.getByRole('combobox', { name: 'Expires after' }), '1 day')
    await user.click(screen.getByRole('button', { name: 'Create link' }))
    expect(api.createInvite).toHaveBeenCalledWith({ maxUses: 5, expiresInHours: 24 })
    expect((await screen.findByRole<HTMLInputElement>('textbox', { name: 'Invite link' })).value).toBe(
      'http://herald.test/join/WXYZ1234',
    )
    expect(screen.getByText(/^Up to 5 people can create an account with this link/)).toBeDefined()

    await user.click(screen.getByRole('radio', { name: 'One person' }))
    await user.click(screen.getByRole('button', { name: 'Create link' }))
    expect(api.createInvite).toHaveBeenLastCalledWith({ maxUses: 1, expiresInHours: 24 })

    // Revoke asks first; Cancel leaves the invite and gives focus back to its Revoke button.
    const revoke = screen.getByRole('button', { name: 'Revoke invite ABCD…' })
    await user.click(revoke)
    const confirm = screen.getByRole('dialog', { name: 'Revoke invite ABCD…?' })
    expect(confirm.textContent).toContain('97 of 100 uses left')
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }))
    expect(api.revokeInvite).not.toHaveBeenCalled()
    expect(document.activeElement).toBe(revoke)

    api.listInvites.mockResolvedValue([])
    await user.click(revoke)
    await user.click(within(screen.getByRole('dialog', { name: 'Revoke invite ABCD…?' })).getByRole('button', { name: 'Revoke' }))
    expect(api.revokeInvite).toHaveBeenCalledWith('i1')
    expect(await screen.findByText('No active invites.')).toBeDefined()
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('shows the audit log newest first and loads older entries', async () => {
    const api = fakeApi()
    const entry = (id: string, action: string, targetId?: string, details?: Record<string, string>): AuditEntry => ({
      id,
      actorId: ada.id,
      action,
      createdAt: Date.UTC(2026, 0, 2, 10),
      ...(targetId ? { targetId } : {}),
      ...(details ? { details } : {}),
    })
    api.listAudit.mockImplementation((before?: string) =>
      Promise.resolve(
        before
          ? { entries: [entry('a1', 'invite.created', 'i1', { maxUses: '100' })], hasMore: false }
          : {
              entries: [
                entry('a3', 'user.deactivated', bob.id),
                entry('a2', 'user.role_changed', carol.id, { from: 'member', to: 'admin' }),
              ],
              hasMore: true,
            },
      ),
    )
    renderPage('audit', api)
    const log = await screen.findByRole('list', { name: 'Audit log entries' })
    await within(log).findAllByRole('listitem')
    expect(within(log).getAllByRole('listitem').map((li) => li.querySelector('.audit-what')?.textContent)).toEqual([
      'Ada Lovelace deactivated Bob',
      'Ada Lovelace changed the role of Carol: member → admin',
    ])
    await userEvent.setup().click(screen.getByRole('button', { name: 'Load older' }))
    await vi.waitFor(() => expect(within(log).getAllByRole('listitem')).toHaveLength(3))
    expect(api.listAudit).toHaveBeenLastCalledWith('a2')
    expect(within(log).getAllByRole('listitem')[2]?.textContent).toContain('Ada Lovelace created an invite for up to 100 people')
    expect(screen.queryByRole('button', { name: 'Load older' })).toBeNull()
  })

  it('saves the team name and who creates channels', async () => {
    const { api, rerender, stream } = renderPage('team', fakeApi(), { name: 'Herald', channelCreation: 'everyone' })
    const user = userEvent.setup()
    const name = screen.getByRole('textbox', { name: 'Team name' })
    expect((name as HTMLInputElement).value).toBe('Herald')
    // TEAM_UPDATED from elsewhere: the untouched form follows.
    rerender(
      <AdminPage api={api} stream={stream} section="team" me={ada} users={users} team={{ name: 'Acme', channelCreation: 'everyone' }} />,
    )
    expect((name as HTMLInputElement).value).toBe('Acme')
    await user.clear(name)
    await user.type(name, 'Acme Inc')
    await user.click(screen.getByRole('radio', { name: 'Admins only' }))
    await user.click(screen.getByRole('button', { name: 'Save' }))
    expect(api.updateTeam).toHaveBeenCalledWith({ name: 'Acme Inc', channelCreation: 'admins' })
    expect((await screen.findByText('Saved.')).getAttribute('role')).toBe('status')
  })

  it('uploads the team icon, shows it, and removes it', async () => {
    const { api } = renderPage('team', fakeApi(), { name: 'Herald', channelCreation: 'everyone' })
    const user = userEvent.setup()
    expect(screen.getByText('No icon')).toBeDefined()
    expect(screen.queryByRole('button', { name: 'Remove icon' })).toBeNull()
    expect(screen.getByRole('button', { name: 'Upload icon' })).toHaveProperty('disabled', true)
    const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'icon.png', { type: 'image/png' })
    await user.upload(screen.getByLabelText('Choose an icon (PNG, JPEG or GIF, at most 5 MB)'), png)
    await user.click(screen.getByRole('button', { name: 'Upload icon' }))
    expect(api.uploadTeamIcon).toHaveBeenCalledExactlyOnceWith(png)
    expect((await screen.findByText('The icon is saved.')).getAttribute('role')).toBe('status')
    expect(screen.getByRole<HTMLImageElement>('img', { name: "The team's icon" }).getAttribute('src')).toBe('/api/team/icon?v=1&size=256')

    await user.click(screen.getByRole('button', { name: 'Remove icon' }))
    expect(api.deleteTeamIcon).toHaveBeenCalledOnce()
    expect(await screen.findByText('The icon is removed.')).toBeDefined()
    expect(screen.queryByRole('img', { name: "The team's icon" })).toBeNull()
  })

  it("shows the server's refusal of an icon, and refuses what is no image before sending", async () => {
    const api = fakeApi()
    api.uploadTeamIcon.mockRejectedValueOnce(new ApiRequestError(400, 'invalid', 'The image could not be decoded.'))
    renderPage('team', api, { name: 'Herald', iconUrl: 'https://cdn.example/acme.png', channelCreation: 'everyone' })
    expect(screen.getByRole<HTMLImageElement>('img', { name: "The team's icon" }).getAttribute('src')).toBe('https://cdn.example/acme.png')
    const user = userEvent.setup({ applyAccept: false })
    const input = screen.getByLabelText('Choose an icon (PNG, JPEG or GIF, at most 5 MB)')
    await user.upload(input, new File(['not an image'], 'notes.txt', { type: 'text/plain' }))
    expect(screen.getByRole('alert').textContent).toBe('Could not change the icon: Choose a PNG, JPEG or GIF image.')
    expect(screen.getByRole('button', { name: 'Upload icon' })).toHaveProperty('disabled', true)

    await user.upload(input, new File(['broken'], 'broken.png', { type: 'image/png' }))
    await user.click(screen.getByRole('button', { name: 'Upload icon' }))
    expect((await screen.findByRole('alert')).textContent).toBe('Could not change the icon: The image could not be decoded.')
    expect(input.getAttribute('aria-describedby')).toContain(screen.getByRole('alert').id)
  })

  it('tells a member the page is for admins', () => {
    const stream = new FakeEventStream()
    render(<AdminPage api={fakeApi()} stream={stream} section="people" me={{ ...ada, role: 'member' }} users={users} team={undefined} />)
    expect(screen.getByRole('alert').textContent).toBe('Only admins can open this page.')
  })
})
