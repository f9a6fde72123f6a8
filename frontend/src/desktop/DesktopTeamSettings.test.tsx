import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import type { DesktopBackup, DesktopSettings, DesktopState } from './desktop'
import { ChangeTeamButton, DesktopTeamSettings, formatBytes } from './DesktopTeamSettings'

const hosting: DesktopState = {
  configured: true,
  mode: 'host',
  serverUrl: 'http://127.0.0.1:7878',
  hostAddr: '0.0.0.0:7878',
  teamName: 'Engines',
  signedIn: true,
  connection: 'Live',
  unread: 0,
  keepInTray: true,
  lanUrl: 'http://192.168.1.20:7878',
}

const backup: DesktopBackup = {
  path: '/home/olivia/.local/share/herald/server/backups/herald-20261202T170000.000Z.tar.gz',
  size: 3 * 1024 * 1024 + 512 * 1024,
  createdAt: '2026-12-02T17:00:00.000Z',
}

function setup(initial: DesktopState = hosting, backUp = vi.fn(() => Promise.resolve(backup))) {
  const client = {
    state: vi.fn(() => Promise.resolve(initial)),
    saveSettings: vi.fn((settings: DesktopSettings) => Promise.resolve({ ...initial, ...settings })),
    reset: vi.fn(() => Promise.resolve()),
    backUp,
  }
  const reload = vi.fn()
  const user = userEvent.setup()
  render(<DesktopTeamSettings client={client} reload={reload} desktop />)
  return { client, reload, user }
}

describe('DesktopTeamSettings', () => {
  it('is not shown in a browser', () => {
    const state = vi.fn(() => Promise.resolve(hosting))
    const { container } = render(
      <DesktopTeamSettings
        client={{ state, saveSettings: vi.fn(), reset: vi.fn(), backUp: vi.fn() }}
        desktop={false}
      />,
    )

    expect(container.textContent).toBe('')
    expect(state).not.toHaveBeenCalled()
  })

  it('shows the hosted team, its addresses and the connection', async () => {
    setup()

    const section = await screen.findByRole('region', { name: 'Team' })
    await within(section).findByText('Engines')
    expect(within(section).getByText('Hosts the team server')).toBeDefined()
    expect(within(section).getByText('0.0.0.0:7878')).toBeDefined()
    expect(within(section).getByText('http://192.168.1.20:7878')).toBeDefined()
    expect(within(section).getByText('Live')).toBeDefined()
  })

  it('shows a joined team', async () => {
    setup({
      configured: true,
      mode: 'join',
      serverUrl: 'http://10.0.0.5:7878',
      signedIn: true,
      connection: 'Reconnecting',
      unread: 3,
      keepInTray: false,
    })

    expect(await screen.findByText('Joined a team server')).toBeDefined()
    expect(screen.getByText('http://10.0.0.5:7878')).toBeDefined()
    expect(screen.getByText('Reconnecting')).toBeDefined()
    expect(screen.getByRole<HTMLInputElement>('checkbox').checked).toBe(false)
  })

  it('backs up a hosted team now and shows the last backup', async () => {
    const { client, user } = setup()

    const section = await screen.findByRole('region', { name: 'Team' })
    expect(await within(section).findByText('None yet')).toBeDefined()
    await user.click(within(section).getByRole('button', { name: 'Back up now' }))

    expect(client.backUp).toHaveBeenCalledTimes(1)
    expect(await within(section).findByText(backup.path)).toBeDefined()
    expect(within(section).getByText(/3\.5 MiB/)).toBeDefined()
    expect(within(section).getByRole('status').textContent).toBe('Backed up.')
    expect(within(section).queryByText('None yet')).toBeNull()
  })

  it('shows the last backup the app reports, and a failed backup', async () => {
    const backUp = vi.fn(() => Promise.reject(new ApiRequestError(500, 'internal', 'disk full')))
    const { user } = setup({ ...hosting, lastBackup: backup }, backUp)

    const section = await screen.findByRole('region', { name: 'Team' })
    expect(await within(section).findByText(backup.path)).toBeDefined()
    await user.click(within(section).getByRole('button', { name: 'Back up now' }))

    expect((await within(section).findByRole('alert')).textContent).toContain('Backup failed: disk full')
    expect(within(section).getByText(backup.path)).toBeDefined()
    expect(within(section).getByRole<HTMLButtonElement>('button', { name: 'Back up now' }).disabled).toBe(false)
  })

  it('offers no backup for a joined team', async () => {
    setup({ ...hosting, mode: 'join', serverUrl: 'https://chat.example.com' })

    await screen.findByText('Joined a team server')
    expect(screen.queryByRole('button', { name: 'Back up now' })).toBeNull()
  })

  it('formats backup sizes', () => {
    expect(formatBytes(512)).toBe('512 bytes')
    expect(formatBytes(2048)).toBe('2.0 KiB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB')
  })

  it('says what the desktop lacks and what waits in the outbox', async () => {
    setup({ ...hosting, outbox: 2, nativeFailures: 4, hasTray: false })

    const section = await screen.findByRole('region', { name: 'Team' })
    expect(await within(section).findByText('2 messages, sent when the server is back')).toBeDefined()
    expect(within(section).getByText(/Not available on this desktop \(no notification service\)/)).toBeDefined()
    expect(within(section).getByText(/closing the window quits Herald/)).toBeDefined()
  })

  it('says nothing of them when all is well', async () => {
    setup({ ...hosting, outbox: 0, nativeFailures: 0, hasTray: true })

    const section = await screen.findByRole('region', { name: 'Team' })
    await within(section).findByText('Engines')
    expect(within(section).queryByText(/Waiting to send|Desktop notifications|Tray icon/)).toBeNull()
  })

  it('saves the tray setting, and says so when it cannot', async () => {
    const { client, user } = setup()
    const box = await screen.findByRole<HTMLInputElement>('checkbox', {
      name: 'Keep running in the tray when the window is closed',
    })
    expect(box.checked).toBe(true)

    await user.click(box)

    expect(client.saveSettings).toHaveBeenCalledExactlyOnceWith({ keepInTray: false })
    await waitFor(() => expect(box.checked).toBe(false))

    client.saveSettings.mockRejectedValueOnce(new ApiRequestError(500, 'internal', 'Disk full.'))
    await user.click(box)

    expect((await screen.findByRole('alert')).textContent).toBe('Not saved: Disk full.')
    expect(box.checked).toBe(false)
    expect(box.disabled).toBe(false)
  })

  it('announces the hosted team on the local network unless turned off', async () => {
    const { client, user } = setup({ ...hosting, lanAnnounce: true, lanAvailable: true })
    const box = await screen.findByRole<HTMLInputElement>('checkbox', { name: 'Announce this team on the local network' })
    expect(box.checked).toBe(true)
    expect(document.getElementById(box.getAttribute('aria-describedby') ?? '')?.textContent).toContain('Join screen')

    await user.click(box)

    expect(client.saveSettings).toHaveBeenCalledExactlyOnceWith({ lanAnnounce: false })
    await waitFor(() => expect(box.checked).toBe(false))
  })

  it('offers no announcing when joined, or under --no-lan', async () => {
    setup({ ...hosting, mode: 'join', lanAvailable: true })
    await screen.findByRole('checkbox', { name: 'Keep running in the tray when the window is closed' })
    expect(screen.queryByRole('checkbox', { name: 'Announce this team on the local network' })).toBeNull()
  })

  it('changes the team only after confirming, then reloads', async () => {
    const { client, reload, user } = setup()
    await user.click(await screen.findByRole('button', { name: 'Change team…' }))

    const dialog = screen.getByRole('dialog', { name: 'Change team?' })
    expect(dialog.textContent).toContain('offline for everyone')
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(client.reset).not.toHaveBeenCalled()

    await user.click(screen.getByRole('button', { name: 'Change team…' }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Change team' }))

    expect(client.reset).toHaveBeenCalledTimes(1)
    await waitFor(() => expect(reload).toHaveBeenCalledTimes(1))
  })

  it('keeps the dialog open with the error when the reset fails', async () => {
    const { client, reload, user } = setup()
    client.reset.mockRejectedValueOnce(new ApiRequestError(500, 'internal', 'Could not stop the server.'))
    await user.click(await screen.findByRole('button', { name: 'Change team…' }))

    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Change team' }))

    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not change the team: Could not stop the server.',
    )
    expect(reload).not.toHaveBeenCalled()
  })
})

describe('ChangeTeamButton', () => {
  it('is not shown in a browser', () => {
    const { container } = render(<ChangeTeamButton client={{ reset: vi.fn() }} desktop={false} />)

    expect(container.textContent).toBe('')
  })

  it('resets the app after confirming, then reloads', async () => {
    const reset = vi.fn(() => Promise.resolve())
    const reload = vi.fn()
    const user = userEvent.setup()
    render(<ChangeTeamButton client={{ reset }} reload={reload} desktop />)

    await user.click(screen.getByRole('button', { name: 'Change team…' }))
    await user.click(within(screen.getByRole('dialog', { name: 'Change team?' })).getByRole('button', { name: 'Change team' }))

    expect(reset).toHaveBeenCalledTimes(1)
    await waitFor(() => expect(reload).toHaveBeenCalledTimes(1))
  })
})
