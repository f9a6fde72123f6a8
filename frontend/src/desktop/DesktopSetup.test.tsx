import { act, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import type { HostParams, HostResult, JoinResult, LanAddresses } from './desktop'
import { DesktopSetup, normalizeServerUrl, validateHost } from './DesktopSetup'

const hosted: HostResult = {
  inviteUrl: 'http://192.168.1.20:7878/join/c0de',
  lanUrl: 'http://192.168.1.20:7878',
}

function setup({
  host = vi.fn<(params: HostParams) => Promise<HostResult>>().mockResolvedValue(hosted),
  join = vi.fn<(serverUrl: string) => Promise<JoinResult>>().mockResolvedValue({ next: '/' }),
  addresses,
}: {
  host?: (params: HostParams) => Promise<HostResult>
  join?: (serverUrl: string) => Promise<JoinResult>
  addresses?: () => Promise<LanAddresses>
} = {}) {
  const assign = vi.fn<(url: string) => void>()
  const user = userEvent.setup()
  render(<DesktopSetup client={addresses ? { host, join, addresses } : { host, join }} assign={assign} />)
  return { host, join, assign, user }
}

async function fillHostForm(user: ReturnType<typeof userEvent.setup>, overrides: Record<string, string> = {}) {
  const values: Record<string, string> = {
    'Team name': 'Analytical Engines',
    'Your name': 'Ada Lovelace',
    Username: 'ada',
    Password: 'correct horse',
    'Confirm password': 'correct horse',
    ...overrides,
  }
  for (const [label, value] of Object.entries(values)) {
    const input = screen.getByLabelText(label)
    await user.clear(input)
    if (value !== '') await user.type(input, value)
  }
}

describe('DesktopSetup', () => {
  it('offers hosting and joining, and goes back to the choice it left', async () => {
    const { user } = setup()

    expect(screen.getByRole('heading', { level: 1, name: 'Set up Herald' })).toBeDefined()
    await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))
    expect(screen.getByRole('heading', { level: 1, name: 'Host a team' })).toBeDefined()
    expect(document.activeElement).toBe(screen.getByLabelText('Team name'))

    await user.click(screen.getByRole('button', { name: 'Back' }))

    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Host a team on this computer' }))
  })

  describe('hosting', () => {
    it('proposes 0.0.0.0:7878 and explains the address', async () => {
      const { user } = setup()
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))

      const address = screen.getByLabelText('Listen address')
      expect((address as HTMLInputElement).value).toBe('0.0.0.0:7878')
      expect(address.getAttribute('aria-describedby')).toBeTruthy()
      expect(screen.getByText(/change the port if 7878 is taken/)).toBeDefined()
    })

    it('checks the form before asking the app, and focuses the first problem', async () => {
      const { host, user } = setup()
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))
      await fillHostForm(user, { 'Team name': '', Username: 'a', 'Confirm password': 'correct horsf' })
      await user.clear(screen.getByLabelText('Listen address'))
      await user.type(screen.getByLabelText('Listen address'), '0.0.0.0')

      await user.click(screen.getByRole('button', { name: 'Host the team' }))

      expect(host).not.toHaveBeenCalled()
      const teamName = screen.getByLabelText('Team name')
      expect(document.activeElement).toBe(teamName)
      expect(teamName.getAttribute('aria-invalid')).toBe('true')
      expect(screen.getByText("Enter the team's name.")).toBeDefined()
      expect(screen.getByText('Enter an address and a port, like 0.0.0.0:7878.')).toBeDefined()
      expect(screen.getByText('Use 2 to 32 letters, digits, dots, dashes or underscores.')).toBeDefined()
      expect(screen.getByText('The passwords do not match.')).toBeDefined()
      expect(screen.getByLabelText('Password').getAttribute('aria-invalid')).toBeNull()
      // The error is read out with the field.
      const confirm = screen.getByLabelText('Confirm password')
      const described = confirm.getAttribute('aria-describedby') ?? ''
      expect(described.split(' ').map((id) => document.getElementById(id)?.textContent)).toContain(
        'The passwords do not match.',
      )

      // Fixing a field clears its error.
      await user.type(teamName, 'Engines')
      expect(screen.queryByText("Enter the team's name.")).toBeNull()
    })

    it('starts the team, then shows the invite link to copy, the LAN address, and opens Herald', async () => {
      let finish: (result: HostResult) => void = () => undefined
      const host = vi.fn<(params: HostParams) => Promise<HostResult>>(
        () => new Promise<HostResult>((resolve) => (finish = resolve)),
      )
      const { assign, user } = setup({ host })
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))
      await fillHostForm(user, { 'Team name': '  Analytical Engines ' })

      await user.click(screen.getByRole('button', { name: 'Host the team' }))

      expect(host).toHaveBeenCalledExactlyOnceWith({
        hostAddr: '0.0.0.0:7878',
        teamName: 'Analytical Engines',
        username: 'ada',
        displayName: 'Ada Lovelace',
        password: 'correct horse',
      })
      const busy = screen.getByRole('button', { name: 'Starting the team…' })
      expect((busy as HTMLButtonElement).disabled).toBe(true)
      finish(hosted)

      expect(await screen.findByRole('heading', { name: 'Your team is ready' })).toBeDefined()
      const link = screen.getByLabelText<HTMLInputElement>('Invite link')
      expect(link.value).toBe(hosted.inviteUrl)
      expect(screen.getByText(hosted.lanUrl)).toBeDefined()

      await user.click(screen.getByRole('button', { name: 'Copy' }))
      expect(await screen.findByText('Copied.')).toBeDefined()
      expect(await navigator.clipboard.readText()).toBe(hosted.inviteUrl)

      await user.click(screen.getByRole('button', { name: 'Open Herald' }))
      expect(assign).toHaveBeenCalledExactlyOnceWith('/')
    })

    it('selects the link for the user to copy when there is no clipboard', async () => {
      const { user } = setup()
      const clipboard = Object.getOwnPropertyDescriptor(navigator, 'clipboard')
      Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true })
      onTestFinished(() => {
        if (clipboard) Object.defineProperty(navigator, 'clipboard', clipboard)
        else delete (navigator as { clipboard?: unknown }).clipboard
      })
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))
      await fillHostForm(user)
      await user.click(screen.getByRole('button', { name: 'Host the team' }))
      const link = await screen.findByLabelText<HTMLInputElement>('Invite link')

      await user.click(screen.getByRole('button', { name: 'Copy' }))

      expect(await screen.findByText(/The link is selected: press Ctrl\+C/)).toBeDefined()
      expect(document.activeElement).toBe(link)
      expect([link.selectionStart, link.selectionEnd]).toEqual([0, (hosted.inviteUrl ?? '').length])
    })

    it('marks the address when it is in use (409) and keeps what was typed', async () => {
      const host = vi
        .fn<(params: HostParams) => Promise<HostResult>>()
        .mockRejectedValue(new ApiRequestError(409, 'address_in_use', 'Address 0.0.0.0:7878 is in use.'))
      const { user } = setup({ host })
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))
      await fillHostForm(user)

      await user.click(screen.getByRole('button', { name: 'Host the team' }))

      const address = screen.getByLabelText('Listen address')
      await waitFor(() => expect(document.activeElement).toBe(address))
      expect(address.getAttribute('aria-invalid')).toBe('true')
      expect(screen.getByText(/Address 0.0.0.0:7878 is in use. .*choose another/)).toBeDefined()
      expect(screen.getByLabelText<HTMLInputElement>('Team name').value).toBe('Analytical Engines')
      expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Host the team' }).disabled).toBe(false)
    })

    it("shows the app's message for an invalid request (400)", async () => {
      const host = vi
        .fn<(params: HostParams) => Promise<HostResult>>()
        .mockRejectedValue(new ApiRequestError(400, 'invalid', 'The password is too common.'))
      const { user } = setup({ host })
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))
      await fillHostForm(user)

      await user.click(screen.getByRole('button', { name: 'Host the team' }))

      expect((await screen.findByRole('alert')).textContent).toBe('The password is too common.')
    })
  })

  describe('the address in invite links', () => {
    const fp = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89'
    const lan: LanAddresses = {
      addresses: [
        { interface: 'wlan0', address: '192.168.1.20', defaultRoute: true },
        { interface: 'docker0', address: '172.17.0.1', defaultRoute: false },
      ],
      preferred: '192.168.1.20',
    }

    it("proposes the default route's address, sends the one chosen, and shows the certificate fingerprint", async () => {
      const host = vi.fn<(params: HostParams) => Promise<HostResult>>().mockResolvedValue({
        inviteUrl: `https://172.17.0.1:7878/join/c0de#sha256=${fp}`,
        lanUrl: 'https://172.17.0.1:7878',
      })
      const { user } = setup({ host, addresses: () => Promise.resolve(lan) })
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))

      const select = await screen.findByLabelText<HTMLSelectElement>('Address in invite links')
      expect(select.value).toBe('192.168.1.20')
      expect(screen.getByRole('option', { name: '192.168.1.20 (wlan0, default route)' })).toBeDefined()
      await user.selectOptions(select, '172.17.0.1')
      await fillHostForm(user)
      await user.click(screen.getByRole('button', { name: 'Host the team' }))

      expect(host).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ lanHost: '172.17.0.1' }))
      expect(await screen.findByText(fp)).toBeDefined()
    })

    it('offers no choice when the computer has one address', async () => {
      const one: LanAddresses = { addresses: lan.addresses.slice(0, 1), preferred: '192.168.1.20' }
      const addresses = vi.fn(() => Promise.resolve(one))
      const { user } = setup({ addresses })
      await user.click(screen.getByRole('button', { name: 'Host a team on this computer' }))
      await waitFor(() => expect(addresses).toHaveBeenCalled())
      await act(() => Promise.resolve())
      expect(screen.queryByLabelText('Address in invite links')).toBeNull()
    })
  })

  describe('joining', () => {
    it('asks the app to join and loads the page it names', async () => {
      const join = vi.fn<(serverUrl: string) => Promise<JoinResult>>().mockResolvedValue({ next: '/join/c0de' })
      const { assign, user } = setup({ join })
      await user.click(screen.getByRole('button', { name: 'Join a team' }))
      const input = screen.getByLabelText('Server address or invite link')
      expect(document.activeElement).toBe(input)

      await user.type(input, ' http://192.168.1.20:7878/join/c0de {Enter}')

      expect(join).toHaveBeenCalledExactlyOnceWith('http://192.168.1.20:7878/join/c0de')
      await waitFor(() => expect(assign).toHaveBeenCalledExactlyOnceWith('/join/c0de'))
      expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Connecting…' }).disabled).toBe(true)
    })

    it('adds http:// to a bare address', async () => {
      const { join, user } = setup()
      await user.click(screen.getByRole('button', { name: 'Join a team' }))

      await user.type(screen.getByLabelText('Server address or invite link'), '10.0.0.5:7878')
      await user.click(screen.getByRole('button', { name: 'Connect' }))

      expect(join).toHaveBeenCalledExactlyOnceWith('http://10.0.0.5:7878')
    })

    it("shows why the server could not be reached, and lets the user try again", async () => {
      const join = vi
        .fn<(serverUrl: string) => Promise<JoinResult>>()
        .mockRejectedValueOnce(
          new ApiRequestError(502, 'unreachable', 'Could not reach http://10.0.0.5:7878: connection refused.'),
        )
        .mockResolvedValueOnce({ next: '/' })
      const { assign, user } = setup({ join })
      await user.click(screen.getByRole('button', { name: 'Join a team' }))
      await user.type(screen.getByLabelText('Server address or invite link'), 'http://10.0.0.5:7878')

      await user.click(screen.getByRole('button', { name: 'Connect' }))

      expect((await screen.findByRole('alert')).textContent).toBe(
        'Could not reach http://10.0.0.5:7878: connection refused.',
      )
      expect(assign).not.toHaveBeenCalled()

      await user.click(screen.getByRole('button', { name: 'Connect' }))
      await waitFor(() => expect(assign).toHaveBeenCalledExactlyOnceWith('/'))
      expect(screen.queryByRole('alert')).toBeNull()
    })

    it('asks for an address before asking the app', async () => {
      const { join, user } = setup()
      await user.click(screen.getByRole('button', { name: 'Join a team' }))

      await user.click(screen.getByRole('button', { name: 'Connect' }))

      expect(join).not.toHaveBeenCalled()
      const input = screen.getByLabelText('Server address or invite link')
      expect(input.getAttribute('aria-invalid')).toBe('true')
      expect(screen.getByText("Enter the server's address or your invite link.")).toBeDefined()
    })
  })
})

describe('validateHost', () => {
  const valid = {
    teamName: 'Team',
    hostAddr: '0.0.0.0:7878',
    displayName: 'Ada',
    username: 'ada',
    password: '12345678',
    confirm: '12345678',
  }

  it('accepts a complete form', () => {
    expect(validateHost(valid)).toEqual({})
  })

  it.each(['0.0.0.0:7878', ':7878', 'localhost:1', '[::]:65535', '192.168.1.20:8080'])(
    'accepts the address %s',
    (hostAddr) => {
      expect(validateHost({ ...valid, hostAddr })).toEqual({})
    },
  )

  it.each([
    ['0.0.0.0', 'Enter an address and a port, like 0.0.0.0:7878.'],
    ['0.0.0.0:', 'Enter an address and a port, like 0.0.0.0:7878.'],
    ['http://0.0.0.0:7878', 'Enter an address and a port, like 0.0.0.0:7878.'],
    ['0.0.0.0:0', 'The port must be between 1 and 65535.'],
    ['0.0.0.0:70000', 'The port must be between 1 and 65535.'],
  ])('refuses the address %s', (hostAddr, error) => {
    expect(validateHost({ ...valid, hostAddr })).toEqual({ hostAddr: error })
  })

  it('wants a password of 8 characters', () => {
    expect(validateHost({ ...valid, password: '1234567', confirm: '1234567' })).toEqual({
      password: 'Use at least 8 characters.',
    })
  })
})

describe('normalizeServerUrl', () => {
  it.each([
    ['http://10.0.0.5:7878', 'http://10.0.0.5:7878'],
    ['  https://chat.example.com  ', 'https://chat.example.com'],
    ['10.0.0.5:7878', 'http://10.0.0.5:7878'],
    ['host.local:7878/join/abc', 'http://host.local:7878/join/abc'],
    ['', null],
    ['ftp://10.0.0.5', null],
    ['http://', null],
  ])('%j → %j', (input, expected) => {
    expect(normalizeServerUrl(input)).toBe(expected)
  })
})
