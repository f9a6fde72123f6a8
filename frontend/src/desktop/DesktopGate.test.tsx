import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import type { DesktopState, HostResult, JoinResult } from './desktop'
import { DesktopGate } from './DesktopGate'

function state(configured: boolean): DesktopState {
  return { configured, signedIn: false, connection: 'Signed out', unread: 0, keepInTray: true }
}

function client(answer: () => Promise<DesktopState>) {
  return {
    state: vi.fn(answer),
    host: vi.fn<() => Promise<HostResult>>(),
    join: vi.fn<() => Promise<JoinResult>>(),
    retry: vi.fn(() => Promise.resolve()),
  }
}

describe('DesktopGate', () => {
  it('shows the web client at once in a browser', () => {
    const app = client(() => Promise.resolve(state(false)))

    render(
      <DesktopGate client={app} desktop={false}>
        <p>web client</p>
      </DesktopGate>,
    )

    expect(screen.getByText('web client')).toBeDefined()
    expect(app.state).not.toHaveBeenCalled()
  })

  it('shows the first-run setup, not the web client, until a team is chosen', async () => {
    const app = client(() => Promise.resolve(state(false)))

    render(
      <DesktopGate client={app} desktop>
        <p>web client</p>
      </DesktopGate>,
    )

    expect(screen.getByText('Loading…')).toBeDefined()
    expect(await screen.findByRole('button', { name: 'Host a team on this computer' })).toBeDefined()
    expect(screen.queryByText('web client')).toBeNull()
  })

  it('shows the web client once the app has a team', async () => {
    render(
      <DesktopGate client={client(() => Promise.resolve(state(true)))} desktop>
        <p>web client</p>
      </DesktopGate>,
    )

    expect(await screen.findByText('web client')).toBeDefined()
  })

  it('calls onShown once, after the first screen past Loading… is up', async () => {
    const onShown = vi.fn()
    const { rerender } = render(
      <DesktopGate client={client(() => Promise.resolve(state(false)))} desktop onShown={onShown}>
        <p>web client</p>
      </DesktopGate>,
    )
    expect(onShown).not.toHaveBeenCalled()
    await screen.findByRole('button', { name: 'Host a team on this computer' })
    expect(onShown).toHaveBeenCalledTimes(1)
    rerender(
      <DesktopGate client={client(() => Promise.resolve(state(false)))} desktop onShown={onShown}>
        <p>web client</p>
      </DesktopGate>,
    )
    expect(onShown).toHaveBeenCalledTimes(1)
  })

  it('shows why the chosen team could not start, not the chooser, and tries again', async () => {
    const app = client(() => Promise.resolve({ ...state(true), problem: 'Cannot listen on 0.0.0.0:7878: address in use' }))
    render(
      <DesktopGate client={app} desktop>
        <p>web client</p>
      </DesktopGate>,
    )

    expect(await screen.findByText(/address in use/)).toBeDefined()
    expect(screen.queryByRole('button', { name: 'Host a team on this computer' })).toBeNull()
    expect(screen.queryByText('web client')).toBeNull()

    app.state.mockResolvedValue(state(true)) // the port is free again
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
    expect(app.retry).toHaveBeenCalledTimes(1)
    expect(await screen.findByText('web client')).toBeDefined()
  })

  it('says when the app does not answer, and asks again', async () => {
    const app = client(() => Promise.resolve(state(true)))
    app.state.mockRejectedValueOnce(new ApiRequestError(0, 'unreachable', 'The Herald app did not answer.'))
    const user = userEvent.setup()
    render(
      <DesktopGate client={app} desktop>
        <p>web client</p>
      </DesktopGate>,
    )

    expect((await screen.findByRole('alert')).textContent).toContain('The Herald app did not answer.')
    await user.click(screen.getByRole('button', { name: 'Try again' }))

    expect(await screen.findByText('web client')).toBeDefined()
    expect(app.state).toHaveBeenCalledTimes(2)
  })
})
