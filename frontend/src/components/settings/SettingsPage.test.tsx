import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../../api/client'
import type { Event, Preferences } from '../../api/types'
import { defaultSoundFor, SoundPlayer } from '../../notifications/sounds'
import type { EventListener } from '../../stream/types'
import { ada, chat, member } from '../testFakes'
import { SettingsPage, type SettingsApi } from './SettingsPage'

// 1 June 2026, 12:00 on the test machine's clock.
const NOW = new Date(2026, 5, 1, 12, 0).getTime()

function prefs(change: Partial<Preferences> = {}): Preferences {
  return {
    sounds: true,
    volume: 0.4,
    native: true,
    criticalBreaksThrough: true,
    toastSeconds: 6,
    breakThrough: 'off',
    soundByKind: { mention: 'bell' },
    kinds: { message: false },
    mutedChats: ['c2'],
    doNotDisturb: null,
    quietHours: null,
    ...change,
  }
}

class Stream {
  private readonly listeners = new Set<EventListener>()
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  emit(event: Partial<Event> & Pick<Event, 'type'>): void {
    act(() => {
      for (const listener of this.listeners) listener({ timestamp: NOW, ...event })
    })
  }
}

function fakeApi(initial: Preferences = prefs()) {
  let stored = initial
  const api = {
    getPreferences: vi.fn(() => Promise.resolve(stored)),
    putPreferences: vi.fn((p: Preferences) => {
      stored = p
      return Promise.resolve(p)
    }),
  } satisfies SettingsApi
  return api
}

async function renderSettings(api: SettingsApi = fakeApi()) {
  const stream = new Stream()
  render(
    <SettingsPage
      api={api}
      stream={stream}
      chats={[
        chat('c1', 'general', ['u1']),
        chat('c2', 'ops', ['u1']),
        chat('d1', '', ['u1', 'u2'], 0, { kind: 'dm', ownerIds: [] }),
      ]}
      users={{ [ada.id]: { ...ada, online: true }, u2: member('u2', 'Bob') }}
      meId={ada.id}
      now={() => NOW}
    />,
  )
  await screen.findByRole('heading', { name: 'Notification settings' })
  await screen.findByRole('group', { name: 'Sounds' })
  return { stream, user: userEvent.setup() }
}

function checkbox(name: string | RegExp): HTMLInputElement {
  return screen.getByRole<HTMLInputElement>('checkbox', { name })
}

function saveState(): string {
  return within(screen.getByRole('button', { name: 'Save' }).closest('.settings-actions') as HTMLElement)
    .getAllByRole('status')
    .map((el) => el.textContent)
    .join(' ')
}

describe('SettingsPage', () => {
  afterEach(() => {
    delete (window as { runtime?: unknown }).runtime
  })

  it('shows the stored preferences', async () => {
    await renderSettings(
      fakeApi(
        prefs({
          doNotDisturb: { until: new Date(2026, 5, 1, 14, 30).toISOString() },
          quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' },
        }),
      ),
    )

    expect(checkbox('Play sounds').checked).toBe(true)
    const volume = screen.getByRole('slider', { name: 'Volume' })
    expect(volume.getAttribute('aria-valuetext')).toBe('40%')
    expect(screen.getByRole<HTMLSelectElement>('combobox', { name: 'Sound for mentions' }).value).toBe('bell')
    expect(checkbox('Messages').checked).toBe(false)
    expect(checkbox('Mentions').checked).toBe(true)
    expect(checkbox('Mute #general').checked).toBe(false)
    expect(checkbox('Mute #ops').checked).toBe(true)
    // A DM by its person, never "#".
    expect(checkbox('Mute Bob').checked).toBe(false)
    expect(screen.getByText('Do not disturb until 14:30')).toBeDefined()
    expect(screen.getByLabelText<HTMLInputElement>('From').value).toBe('22:00')
    expect(screen.getByLabelText<HTMLInputElement>('Until').value).toBe('07:00')
    expect(screen.getByRole<HTMLSelectElement>('combobox', { name: 'Time zone' }).value).toBe('Europe/Berlin')
    expect(saveState()).toBe('All changes saved')
    expect(screen.getByRole('button', { name: 'Save' })).toHaveProperty('disabled', true)
  })

  it('lets people break through quiet hours: off, for DMs or always', async () => {
    const api = fakeApi()
    const { user } = await renderSettings(api)
    const group = screen.getByRole('group', { name: 'Let people break through my quiet hours' })
    expect(within(group).getByRole<HTMLInputElement>('radio', { name: 'Off' }).checked).toBe(true)
    await user.click(within(group).getByRole('radio', { name: 'For direct messages' }))
    await user.click(screen.getByRole('button', { name: 'Save' }))
    expect(api.putPreferences.mock.calls[0]?.[0]).toMatchObject({ breakThrough: 'dms' })
    expect(saveState()).toBe('Saved')
  })

  it('saves toggled settings with PUT and says so', async () => {
    const api = fakeApi()
    const { user } = await renderSettings(api)

    await user.click(checkbox('Mentions'))
    await user.click(checkbox('Messages'))
    await user.click(checkbox('Mute #general'))
    await user.click(checkbox('Mute #ops'))
    await user.click(checkbox(/Critical system alerts/))
    fireEvent.change(screen.getByRole('slider', { name: 'Volume' }), { target: { value: '85' } })
    await user.selectOptions(screen.getByRole('combobox', { name: 'Sound for mentions' }), 'pop')
    await user.selectOptions(screen.getByRole('combobox', { name: 'Sound for files' }), defaultSoundFor('file'))
    expect(saveState()).toBe('Unsaved changes')

    await user.click(screen.getByRole('button', { name: 'Save' }))

    expect(api.putPreferences).toHaveBeenCalledOnce()
    expect(api.putPreferences.mock.calls[0]?.[0]).toMatchObject({
      volume: 0.85,
      kinds: { mention: false },
      mutedChats: ['c1'],
      criticalBreaksThrough: false,
      soundByKind: { mention: 'pop' },
    })
    expect(api.putPreferences.mock.calls[0]?.[0].soundByKind).toEqual({ mention: 'pop' })
    await waitFor(() => expect(saveState()).toBe('Saved'))
  })

  it('sends how long notifications stay on screen as a whole number of seconds', async () => {
    const api = fakeApi()
    const { user } = await renderSettings(api)
    const select = screen.getByRole<HTMLSelectElement>('combobox', { name: 'Keep notifications on screen for' })
    expect(select.value).toBe('6')
    expect(within(select).getAllByRole('option').map((o) => o.textContent)).toEqual([
      '3 seconds',
      '6 seconds',
      '10 seconds',
      '20 seconds',
      '30 seconds',
      '60 seconds',
    ])

    await user.selectOptions(select, '20 seconds')
    expect(saveState()).toBe('Unsaved changes')
    await user.click(screen.getByRole('button', { name: 'Save' }))

    expect(api.putPreferences).toHaveBeenCalledOnce()
    const sent = api.putPreferences.mock.calls[0]?.[0]
    expect(sent?.toastSeconds).toBe(20)
    expect(Number.isInteger(sent?.toastSeconds)).toBe(true)
    await waitFor(() => expect(saveState()).toBe('Saved'))
  })

  it('shows a duration set elsewhere among the choices', async () => {
    await renderSettings(fakeApi(prefs({ toastSeconds: 15 })))
    const select = screen.getByRole<HTMLSelectElement>('combobox', { name: 'Keep notifications on screen for' })
    expect(select.value).toBe('15')
    expect(within(select).getByRole('option', { name: '15 seconds' })).toBeDefined()
  })

  it('discards unsaved changes', async () => {
    const { user } = await renderSettings()
    await user.click(checkbox('Play sounds'))
    expect(checkbox('Play sounds').checked).toBe(false)

    await user.click(screen.getByRole('button', { name: 'Discard changes' }))

    expect(checkbox('Play sounds').checked).toBe(true)
    expect(saveState()).toBe('All changes saved')
  })

  it.each([
    ['For 1 hour', { until: new Date(NOW + 3_600_000).toISOString() }, 'Do not disturb until 13:00'],
    [
      'Until tomorrow 08:00',
      { until: new Date(2026, 5, 2, 8, 0).toISOString() },
      /^Do not disturb until .*08:00$/,
    ],
    ['Until I turn it off', {}, 'Do not disturb until you turn it off'],
  ])('applies the do-not-disturb preset "%s" at once', async (label, dnd, shown) => {
    const api = fakeApi()
    const { user } = await renderSettings(api)
    await user.click(checkbox('Play sounds')) // an unsaved change that the preset leaves alone

    await user.click(screen.getByRole('button', { name: label }))

    expect(api.putPreferences).toHaveBeenCalledExactlyOnceWith({ ...prefs(), doNotDisturb: dnd })
    const group = screen.getByRole('group', { name: 'Do not disturb' })
    await waitFor(() => expect(within(group).getByText(shown)).toBeDefined())
    expect(checkbox('Play sounds').checked).toBe(false)
    expect(saveState()).toBe('Unsaved changes')
  })

  it('turns do not disturb off', async () => {
    const api = fakeApi(prefs({ doNotDisturb: {} }))
    const { user } = await renderSettings(api)
    expect(screen.getByText('Do not disturb until you turn it off')).toBeDefined()

    await user.click(screen.getByRole('button', { name: 'Turn off' }))

    expect(api.putPreferences.mock.calls[0]?.[0].doNotDisturb).toBeNull()
    await screen.findByText('Do not disturb is off')
    expect(screen.getByRole('button', { name: 'Turn off' })).toHaveProperty('disabled', true)
  })

  it('shows the server’s validation error for quiet hours and keeps the changes', async () => {
    const api = fakeApi()
    api.putPreferences.mockRejectedValueOnce(
      new ApiRequestError(400, 'invalid', 'quietHours.timeZone "Mars/Olympus" is not a known time zone.'),
    )
    const { user } = await renderSettings(api)

    await user.click(checkbox('Silence notifications every day'))
    expect(screen.getByLabelText<HTMLInputElement>('From').value).toBe('22:00')
    await user.click(screen.getByRole('button', { name: 'Save' }))

    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe('Not saved: quietHours.timeZone "Mars/Olympus" is not a known time zone.')
    expect(api.putPreferences.mock.calls[0]?.[0].quietHours).toMatchObject({ start: '22:00', end: '07:00' })
    expect(saveState()).toBe('Unsaved changes')
    expect(checkbox('Silence notifications every day').checked).toBe(true)
  })

  it('does not send quiet hours without a time', async () => {
    const api = fakeApi(prefs({ quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC' } }))
    const { user } = await renderSettings(api)

    fireEvent.change(screen.getByLabelText('From'), { target: { value: '' } })
    await user.click(screen.getByRole('button', { name: 'Save' }))

    expect(api.putPreferences).not.toHaveBeenCalled()
    expect(screen.getByRole('alert').textContent).toContain('Enter the time quiet hours start')
  })

  it('follows changes from another device unless it has unsaved changes', async () => {
    const { stream, user } = await renderSettings()

    stream.emit({ type: 'PREFERENCES_CHANGED', preferences: prefs({ sounds: false }) })
    expect(checkbox('Play sounds').checked).toBe(false)

    await user.click(checkbox('Mentions'))
    stream.emit({ type: 'PREFERENCES_CHANGED', preferences: prefs({ sounds: true, volume: 1 }) })
    expect(checkbox('Mentions').checked).toBe(false)
    expect(checkbox('Play sounds').checked).toBe(false)
    expect(screen.getByText('These settings were changed on another device.')).toBeDefined()

    await user.click(screen.getByRole('button', { name: 'Show their settings' }))
    expect(checkbox('Play sounds').checked).toBe(true)
    expect(checkbox('Mentions').checked).toBe(true)
  })

  it.each([
    ['before', true],
    ['after', false],
  ])('does not take the echo of its own change (%s the answer) for another device’s', async (_, echoFirst) => {
    const api = fakeApi()
    let answer: (p: Preferences) => void = () => {}
    api.putPreferences.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)))
    const { stream, user } = await renderSettings(api)
    await user.click(checkbox('Files')) // unsaved

    await user.click(screen.getByRole('button', { name: 'Until I turn it off' }))
    const stored = api.putPreferences.mock.calls[0]![0]
    if (echoFirst) stream.emit({ type: 'PREFERENCES_CHANGED', preferences: stored })
    await act(() => Promise.resolve(answer(stored)))
    if (!echoFirst) stream.emit({ type: 'PREFERENCES_CHANGED', preferences: stored })

    expect(screen.getByText('Do not disturb until you turn it off')).toBeDefined()
    expect(screen.queryByText('These settings were changed on another device.')).toBeNull()
    expect(checkbox('Files').checked).toBe(false)
    expect(saveState()).toBe('Unsaved changes')
  })

  it('previews a kind’s sound at the chosen volume', async () => {
    const play = vi.spyOn(SoundPlayer.prototype, 'play').mockImplementation(() => {})
    const { user } = await renderSettings()

    await user.click(screen.getByRole('button', { name: 'Preview sound for mentions' }))

    expect(play).toHaveBeenCalledExactlyOnceWith('bell', 0.4)
  })

  it('shows the browser’s permission and asks again', async () => {
    let state: NotificationPermission = 'default'
    const requestPermission = vi.fn(() => {
      state = 'granted'
      return Promise.resolve(state)
    })
    vi.stubGlobal('Notification', {
      get permission() {
        return state
      },
      requestPermission,
    })
    const { user } = await renderSettings()
    expect(screen.getByText('This browser has not been asked yet.')).toBeDefined()

    await user.click(screen.getByRole('button', { name: 'Allow' }))

    expect(requestPermission).toHaveBeenCalledOnce()
    await screen.findByText('This browser allows Herald to notify you.')
  })

  it('says native notifications come from the desktop app there', async () => {
    ;(window as { runtime?: unknown }).runtime = {}
    await renderSettings()

    expect(screen.getByText(/notifications come from the app itself/)).toBeDefined()
    expect(screen.queryByRole('button', { name: 'Allow' })).toBeNull()
  })

  it('exports the stored preferences as a JSON download', async () => {
    let blob: Blob | undefined
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      blob = b as Blob
      return 'blob:settings'
    })
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {})
    const clicked: HTMLAnchorElement[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this)
    })
    const { user } = await renderSettings()

    await user.click(screen.getByRole('button', { name: 'Export' }))

    expect(clicked).toHaveLength(1)
    expect(clicked[0]?.download).toBe('herald-settings.json')
    expect(clicked[0]?.href).toBe('blob:settings')
    expect(blob?.type).toBe('application/json')
    expect(JSON.parse((await blob?.text()) ?? '')).toEqual(prefs())
  })

  it('imports a settings file with PUT', async () => {
    const api = fakeApi()
    const { user } = await renderSettings(api)
    const file = new File([JSON.stringify({ sounds: false, volume: 0.2 })], 'settings.json', {
      type: 'application/json',
    })

    await user.upload(screen.getByLabelText('Settings file to import'), file)

    await waitFor(() => expect(api.putPreferences).toHaveBeenCalledOnce())
    expect(api.putPreferences.mock.calls[0]?.[0]).toEqual({ ...prefs(), sounds: false, volume: 0.2 })
    await screen.findByText('Imported and saved.')
    expect(checkbox('Play sounds').checked).toBe(false)
  })

  it.each([
    ['[1, 2]', 'Not imported: The file must hold a JSON object of settings.'],
    ['"quiet"', 'Not imported: The file must hold a JSON object of settings.'],
    ['null', 'Not imported: The file must hold a JSON object of settings.'],
    ['{oops', 'Not imported: The file is not valid JSON.'],
  ])('refuses to import %s', async (text, message) => {
    const api = fakeApi()
    const { user } = await renderSettings(api)

    await user.upload(screen.getByLabelText('Settings file to import'), new File([text], 'x.json'))

    expect((await screen.findByRole('alert')).textContent).toBe(message)
    expect(api.putPreferences).not.toHaveBeenCalled()
  })

  it('shows the server’s reason when it rejects an import', async () => {
    const api = fakeApi()
    api.putPreferences.mockRejectedValueOnce(new ApiRequestError(400, 'invalid', 'volume must be between 0 and 1.'))
    const { user } = await renderSettings(api)

    await user.upload(screen.getByLabelText('Settings file to import'), new File(['{"volume": 3}'], 'x.json'))

    expect((await screen.findByRole('alert')).textContent).toBe('Not imported: volume must be between 0 and 1.')
    expect(screen.getByRole('slider', { name: 'Volume' }).getAttribute('aria-valuetext')).toBe('40%')
  })

  it('offers a retry when the preferences cannot be loaded', async () => {
    const api = fakeApi()
    api.getPreferences.mockRejectedValueOnce(new Error('offline'))
    const user = userEvent.setup()
    render(<SettingsPage api={api} stream={new Stream()} chats={[]} users={{}} meId={ada.id} now={() => NOW} />)

    expect((await screen.findByRole('alert')).textContent).toBe('Could not load your settings: offline')
    await user.click(screen.getByRole('button', { name: 'Try again' }))

    await screen.findByRole('group', { name: 'Sounds' })
  })
})
