import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { DesktopSettings, DesktopState, HostParams, HostResult, JoinResult, LanTeam, LanTeams } from './desktop'
import { DesktopSetup } from './DesktopSetup'

const POLL_MS = 20
const fp = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89'
const acme: LanTeam = {
  instance: 'herald-abcdef0123456789',
  name: 'Acme',
  host: 'alice-laptop.local',
  addr: '192.168.1.20',
  port: 7878,
  scheme: 'https',
  fingerprint: fp,
  hostedBy: 'Alice',
  url: `https://192.168.1.20:7878#sha256=${fp}`,
}

function setup(answers: LanTeams[]) {
  const lan = vi.fn<() => Promise<LanTeams>>()
  for (const a of answers) lan.mockResolvedValueOnce(a)
  lan.mockResolvedValue(answers[answers.length - 1] ?? { enabled: true, teams: [] })
  const join = vi.fn<(serverUrl: string) => Promise<JoinResult>>().mockResolvedValue({ next: '/' })
  const host = vi.fn<(params: HostParams) => Promise<HostResult>>()
  const saveSettings = vi.fn<(s: DesktopSettings) => Promise<DesktopState>>().mockResolvedValue({} as DesktopState)
  const user = userEvent.setup()
  render(<DesktopSetup client={{ host, join, lan, saveSettings }} assign={vi.fn()} lanPollMs={POLL_MS} />)
  return { lan, join, saveSettings, user }
}

/** Several poll intervals: for "not asked again". */
const quietSpell = () => new Promise((resolve) => setTimeout(resolve, 5 * POLL_MS))

describe('DesktopSetup: teams on this network', () => {
  it('lists the teams found, live, and one click fills in the address with the announced fingerprint', async () => {
    const { lan, join, user } = setup([
      { enabled: true, teams: [] },
      { enabled: true, teams: [acme] },
    ])
    await user.click(screen.getByRole('button', { name: 'Join a team' }))

    const status = screen.getByRole('status')
    expect(status.getAttribute('aria-live')).toBe('polite')
    await waitFor(() => expect(status.textContent).toBe('No teams found on this network yet.'))
    await waitFor(() => expect(status.textContent).toBe('1 team found on this network.'))
    const pick = within(screen.getByRole('list')).getByRole('button', { name: /Acme/ })
    expect(pick.textContent).toContain('192.168.1.20:7878 · hosted by Alice')

    // Still asking while the screen is open.
    const calls = lan.mock.calls.length
    await waitFor(() => expect(lan.mock.calls.length).toBeGreaterThan(calls))

    await user.click(pick)
    const input = screen.getByLabelText<HTMLInputElement>('Server address or invite link')
    expect(input.value).toBe(acme.url)
    expect(document.activeElement).toBe(input)
    // The fingerprint that will be pinned is shown to compare.
    expect(screen.getByText(/Herald will accept only the certificate with the fingerprint/).textContent).toContain(
      'ab:cd:ef:01',
    )

    await user.click(screen.getByRole('button', { name: 'Connect' }))
    expect(join).toHaveBeenCalledExactlyOnceWith(acme.url)
  })

  it('still takes a typed address, and stops asking when the screen closes', async () => {
    const { join, user } = setup([{ enabled: true, teams: [acme] }])
    await user.click(screen.getByRole('button', { name: 'Join a team' }))
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('1 team found on this network.'))
    await user.type(screen.getByLabelText('Server address or invite link'), '10.0.0.5:7878')
    expect(screen.queryByText(/Herald will accept only the certificate/)).toBeNull()
    await user.click(screen.getByRole('button', { name: 'Connect' }))
    expect(join).toHaveBeenCalledExactlyOnceWith('http://10.0.0.5:7878')
  })

  it('stops asking when the user goes back', async () => {
    const { lan, user } = setup([{ enabled: true, teams: [] }])
    await user.click(screen.getByRole('button', { name: 'Join a team' }))
    await waitFor(() => expect(lan.mock.calls.length).toBeGreaterThan(1))
    await user.click(screen.getByRole('button', { name: 'Back' }))
    const calls = lan.mock.calls.length
    await quietSpell()
    expect(lan.mock.calls.length).toBeLessThanOrEqual(calls + 1) // at most the one in flight
  })

  it('says when looking is off, stops asking, and the checkbox turns it back on', async () => {
    const { lan, saveSettings, user } = setup([
      { enabled: false, teams: [] },
      { enabled: true, teams: [acme] },
    ])
    await user.click(screen.getByRole('button', { name: 'Join a team' }))
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Looking for teams on this network is off.'))
    const box = screen.getByRole<HTMLInputElement>('checkbox', { name: 'Look for teams on this network' })
    expect(box.checked).toBe(false)
    await quietSpell()
    expect(lan).toHaveBeenCalledTimes(1) // off: not asked again

    await user.click(box)
    expect(saveSettings).toHaveBeenCalledExactlyOnceWith({ lanBrowse: true })
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('1 team found on this network.'))
    expect(box.checked).toBe(true)
  })
})
