import { fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../../api/client'
import type { ProfilePatch, Session, User } from '../../api/types'
import { AccountSettings, type AccountApi } from './AccountSettings'
import type { AvatarTransport } from './accountModel'

const me: User = { id: 'u1', username: 'ada', displayName: 'Ada', role: 'member', createdAt: 0, avatarColor: '#15803d' }

const sessions: Session[] = [
  { id: 's1', device: 'Chrome on Linux', ip: '10.0.0.2', createdAt: '2026-12-01T10:00:00Z', lastSeenAt: '2026-12-02T10:00:00Z', expiresAt: '2027-01-01T00:00:00Z', current: true },
  { id: 's2', device: 'Safari on iOS', ip: '10.0.0.9', createdAt: '2026-11-30T10:00:00Z', lastSeenAt: '2026-12-02T09:00:00Z', expiresAt: '2027-01-01T00:00:00Z' },
]

function fakeApi(changePassword = vi.fn<(current: string, next: string) => Promise<void>>(() => Promise.resolve())) {
  const calls = {
    updateProfile: vi.fn((patch: ProfilePatch) => Promise.resolve({ ...me, ...patch } as User)),
    changePassword,
    endSession: vi.fn<(id: string) => Promise<void>>(() => Promise.resolve()),
    revokeOtherSessions: vi.fn(() => Promise.resolve(1)),
  }
  const api: AccountApi = {
    ...calls,
    deleteAvatar: () => Promise.resolve(me),
    listSessions: () => Promise.resolve({ sessions, total: 2 }),
  }
  return Object.assign(api, { calls })
}

const NOW = Date.parse('2026-12-02T10:30:00Z')

function renderPage(api: AccountApi, upload?: AvatarTransport, onUser = vi.fn<(user: User) => void>()) {
  render(<AccountSettings api={api} me={me} onUser={onUser} uploadAvatar={upload} now={() => NOW} />)
  return onUser
}

describe('AccountSettings', () => {
  it('saves the display name and hands the answer to the store', async () => {
    const api = fakeApi()
    const onUser = renderPage(api)
    const field = screen.getByLabelText('Display name')
    fireEvent.change(field, { target: { value: '  Ada L.  ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save name' }))
    await waitFor(() => expect(onUser).toHaveBeenCalledWith(expect.objectContaining({ displayName: 'Ada L.' })))
    expect(api.calls.updateProfile).toHaveBeenCalledWith({ displayName: 'Ada L.' })
  })

  it('sets a status with an emoji and an expiry', async () => {
    const api = fakeApi()
    renderPage(api)
    fireEvent.click(screen.getByRole('button', { name: 'Choose a status emoji' }))
    const picker = await screen.findByRole('dialog', { name: 'Choose a status emoji' })
    // Closed again before the rest: role queries over its 1,800 emoji buttons took CI 22 s.
    fireEvent.keyDown(picker, { key: 'Escape' })
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())
    fireEvent.change(screen.getByLabelText('What are you up to?'), { target: { value: 'Lunch' } })
    fireEvent.change(screen.getByLabelText('Clear after'), { target: { value: '1h' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save status' }))
    await waitFor(() =>
      expect(api.calls.updateProfile).toHaveBeenCalledWith({ statusText: 'Lunch', statusEmoji: '', statusExpiresAt: NOW + 3_600_000 }),
    )
  })

  it('shows the server refusing a picture', async () => {
    const upload: AvatarTransport = vi.fn((_file: Blob, handlers: Parameters<AvatarTransport>[1]) => {
      handlers.onProgress(10, 20)
      handlers.onFailed('That is not an image the server reads: unsupported')
      return { abort() {} }
    })
    renderPage(fakeApi(), upload)
    const input = screen.getByLabelText(/Choose an image/)
    fireEvent.change(input, { target: { files: [new File(['x'], 'a.png', { type: 'image/png' })] } })
    fireEvent.click(screen.getByRole('button', { name: 'Upload picture' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/not an image the server reads/)
  })

  it('refuses a WebP before sending it', () => {
    const upload = vi.fn()
    renderPage(fakeApi(), upload)
    fireEvent.change(screen.getByLabelText(/Choose an image/), {
      target: { files: [new File(['x'], 'a.webp', { type: 'image/webp' })] },
    })
    expect(screen.getByRole('alert').textContent).toMatch(/PNG, JPEG or GIF/)
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Upload picture' }).disabled).toBe(true)
  })

  it('changes the password, checking the repeat, and says the other sessions end', async () => {
    const api = fakeApi(
      vi
        .fn<(current: string, next: string) => Promise<void>>(() => Promise.resolve())
        .mockRejectedValueOnce(new ApiRequestError(403, 'forbidden', 'wrong')),
    )
    renderPage(api)
    fireEvent.change(screen.getByLabelText('Current password'), { target: { value: 'old-secret' } })
    fireEvent.change(screen.getByLabelText('New password'), { target: { value: 'new-secret-1' } })
    fireEvent.change(screen.getByLabelText('New password again'), { target: { value: 'new-secret-2' } })
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }))
    expect((await screen.findByRole('alert')).textContent).toBe('The two new passwords are not the same.')
    fireEvent.change(screen.getByLabelText('New password again'), { target: { value: 'new-secret-1' } })
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }))
    expect((await screen.findByRole('alert')).textContent).toBe('The current password is not right.')
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }))
    expect(await screen.findByText('Password changed. Your other devices are signed out.')).toBeTruthy()
    expect(api.calls.changePassword).toHaveBeenCalledWith('old-secret', 'new-secret-1')
  })

  it('lists sessions, ends one, and signs out everywhere else after a confirm', async () => {
    const api = fakeApi()
    renderPage(api)
    const list = await screen.findByRole('list', { name: 'Sessions' })
    const rows = within(list).getAllByRole('listitem')
    expect(rows[0]?.textContent).toContain('This device')
    expect(rows[0]?.textContent).toContain('IP 10.0.0.2')
    expect(within(rows[0] as HTMLElement).queryByRole('button')).toBeNull()
    fireEvent.click(within(rows[1] as HTMLElement).getByRole('button', { name: /^Sign out Safari on iOS/ }))
    await waitFor(() => expect(api.calls.endSession).toHaveBeenCalledWith('s2'))

    fireEvent.click(await screen.findByRole('button', { name: 'Sign out everywhere else' }))
    const dialog = screen.getByRole('dialog', { name: 'Sign out everywhere else?' })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Sign out everywhere else' }))
    expect(await screen.findByText('Signed out 1 other session.')).toBeTruthy()
    expect(api.calls.revokeOtherSessions).toHaveBeenCalledTimes(1)
  })
})
