import { act, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { App } from './App'
import { ApiClient, ApiRequestError } from './api/client'
import { ada, chat, FakeChatStore, FakeEventStream, member, snapshot } from './components/testFakes'
import type { Connect } from './session'
import type { SessionChannel } from './sessionChannel'

function json(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

const unauthorized = () => json(401, { error: { code: 'unauthorized', message: 'Sign in first.' } })
const ready = () => json(200, { needsSetup: false, keepaliveMs: 30_000 })

type Handler = (body: unknown) => Response | Promise<Response>

function urlOf(input: RequestInfo | URL): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
}

/** Answers fetch from a table of "METHOD /path" handlers; anything else is a 404. */
function stubServer(routes: Record<string, Handler>) {
  const fetchMock = vi.fn<typeof fetch>((input, init) => {
    const key = `${init?.method ?? 'GET'} ${urlOf(input)}`
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined
    const handler = routes[key]
    return Promise.resolve(
      handler ? handler(body) : json(404, { error: { code: 'not_found', message: `No ${key}.` } }),
    )
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

function calls(fetchMock: ReturnType<typeof stubServer>): string[] {
  return fetchMock.mock.calls.map(([input, init]) => `${init?.method ?? 'GET'} ${urlOf(input)}`)
}

/** The JSON body of the first request to url. */
function sentBody(fetchMock: ReturnType<typeof stubServer>, url: string): unknown {
  const body = fetchMock.mock.calls.find(([input]) => urlOf(input) === url)?.[1]?.body
  return typeof body === 'string' ? JSON.parse(body) : undefined
}

function fakeConnection() {
  const store = new FakeChatStore(
    snapshot({ chats: [chat('c1', 'general', [ada.id], 2), chat('c2', 'random', [ada.id])] }),
  )
  const stream = new FakeEventStream()
  const connect = vi.fn<Connect>(() => ({ store, stream }))
  return { store, stream, connect }
}

/** The origin's other tabs, as the test plays them. */
class FakeSessionChannel implements SessionChannel {
  announced = 0
  private readonly listeners = new Set<() => void>()

  announce(): void {
    this.announced++
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Another tab signed in or out. */
  otherTabAnnounces(): void {
    for (const listener of this.listeners) listener()
  }
}

function renderApp(connect: Connect, sessionChannel: SessionChannel = new FakeSessionChannel()) {
  const api = new ApiClient()
  return { api, ...render(<App api={api} connect={connect} sessionChannel={sessionChannel} />) }
}

describe('App', () => {
  beforeEach(() => window.history.replaceState(null, '', '/'))
  afterEach(() => window.history.replaceState(null, '', '/'))

  it('creates the admin account on a new server and signs in with it', async () => {
    const fetchMock = stubServer({
      'GET /api/server': () => json(200, { needsSetup: true, keepaliveMs: 15_000 }),
      'POST /api/auth/register': () => json(201, { user: ada, token: 't' }),
    })
    const { connect, store, stream } = fakeConnection()
    const start = vi.spyOn(store, 'start')
    const streamStart = vi.spyOn(stream, 'start')
    renderApp(connect)
    const user = userEvent.setup()

    expect(await screen.findByRole('heading', { name: 'Create the admin account' })).toBeDefined()
    await user.type(screen.getByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Display name'), 'Ada Lovelace')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Create account' }))

    expect(await screen.findByRole('link', { name: 'general' })).toBeDefined()
    expect(sentBody(fetchMock, '/api/auth/register')).toEqual({
      username: 'ada',
      password: 'correct horse',
      displayName: 'Ada Lovelace',
    })
    expect(connect).toHaveBeenCalledExactlyOnceWith(ada, 15_000)
    expect(start).toHaveBeenCalledOnce()
    expect(streamStart).toHaveBeenCalledOnce()
    // Nobody can be signed in on a server without accounts.
    expect(calls(fetchMock)).not.toContain('GET /api/me')
  })

  it('asks for a username and password when nobody is signed in', async () => {
    stubServer({ 'GET /api/server': ready, 'GET /api/me': unauthorized })
    renderApp(fakeConnection().connect)

    expect(await screen.findByLabelText('Username')).toBeInstanceOf(HTMLInputElement)
    expect(screen.getByLabelText('Password')).toHaveProperty('type', 'password')
    expect(screen.getByRole('button', { name: 'Sign in' })).toHaveProperty('disabled', false)
  })

  it('signs in, shows the chats, and signs out again', async () => {
    const fetchMock = stubServer({
      'GET /api/server': ready,
      'GET /api/me': unauthorized,
      'POST /api/auth/login': () => json(200, { user: ada, token: 't' }),
      'POST /api/auth/logout': () => json(204),
    })
    const { connect, store, stream } = fakeConnection()
    const stop = vi.spyOn(store, 'stop')
    const streamStop = vi.spyOn(stream, 'stop')
    const tabs = new FakeSessionChannel()
    renderApp(connect, tabs)
    const user = userEvent.setup()

    await user.type(await screen.findByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    expect(tabs.announced).toBe(0)
    await user.click(screen.getByRole('button', { name: 'Sign in' }))

    expect(
      await screen.findByRole('link', { name: 'general', description: '2 unread' }),
    ).toBeDefined()
    expect(screen.getByRole('link', { name: 'random' })).toBeDefined()
    expect(connect).toHaveBeenCalledExactlyOnceWith(ada, 30_000)
    expect(tabs.announced).toBe(1) // the other tabs check who is signed in now

    await user.click(screen.getByRole('button', { name: 'Sign out' }))

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()
    expect(calls(fetchMock)).toContain('POST /api/auth/logout')
    expect(stop).toHaveBeenCalledOnce()
    expect(streamStop).toHaveBeenCalledOnce()
    expect(tabs.announced).toBe(2)
  })

  it.each([
    [401, 'unauthorized', 'Wrong username or password.'],
    [429, 'rate_limited', 'Too many attempts; try again in 3 s.'],
  ])('shows a %i from sign-in in an alert', async (status, code, message) => {
    stubServer({
      'GET /api/server': ready,
      'GET /api/me': unauthorized,
      'POST /api/auth/login': () => json(status, { error: { code, message } }),
    })
    renderApp(fakeConnection().connect)
    const user = userEvent.setup()

    await user.type(await screen.findByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'wrong password')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))

    expect((await screen.findByRole('alert')).textContent).toBe(message)
  })

  it('opens the chat in the URL and follows links, Back and Forward', async () => {
    window.history.replaceState(null, '', '/chats/c2')
    stubServer({ 'GET /api/server': ready, 'GET /api/me': () => json(200, { user: ada }) })
    const { connect, store } = fakeConnection()
    const openChat = vi.spyOn(store, 'openChat')
    renderApp(connect)
    const user = userEvent.setup()

    expect(await screen.findByRole('heading', { level: 1, name: 'random' })).toBeDefined()
    expect(openChat).toHaveBeenLastCalledWith('c2')

    await user.click(screen.getByRole('link', { name: 'general' }))
    expect(window.location.pathname).toBe('/chats/c1')
    expect(screen.getByRole('heading', { level: 1, name: 'general' })).toBeDefined()
    expect(openChat).toHaveBeenLastCalledWith('c1')

    act(() => window.history.back())
    expect(await screen.findByRole('heading', { level: 1, name: 'random' })).toBeDefined()
    act(() => window.history.forward())
    expect(await screen.findByRole('heading', { level: 1, name: 'general' })).toBeDefined()
  })

  it('opens a message link (a copied link, a search result) at the message, in its thread for a reply', async () => {
    window.history.replaceState(null, '', '/chats/c2?message=m9')
    stubServer({ 'GET /api/server': ready, 'GET /api/me': () => json(200, { user: ada }) })
    const { connect, store } = fakeConnection()
    const showMessage = vi.spyOn(store, 'showMessage')
    const findReply = vi.spyOn(store, 'findReply')
    renderApp(connect)

    expect(await screen.findByRole('heading', { level: 1, name: 'random' })).toBeDefined()
    await vi.waitFor(() => expect(showMessage).toHaveBeenCalledWith('c2', 'm9'))
    // Followed once: the address is the chat's again.
    await vi.waitFor(() => expect(window.location.pathname + window.location.search).toBe('/chats/c2'))

    act(() => {
      window.history.pushState(null, '', '/chats/c2?message=r1&thread=m9')
      window.dispatchEvent(new PopStateEvent('popstate'))
    })
    await vi.waitFor(() => expect(findReply).toHaveBeenCalledWith('m9', 'r1'))
    expect(screen.getByRole('complementary', { name: 'Thread in #random' })).toBeDefined()
  })

  it('registers with the code of an invite link', async () => {
    window.history.replaceState(null, '', '/join/inv1te')
    const fetchMock = stubServer({
      'GET /api/server': ready,
      'GET /api/me': unauthorized,
      'POST /api/auth/register': () => json(201, { user: ada, token: 't' }),
    })
    renderApp(fakeConnection().connect)
    const user = userEvent.setup()

    await user.type(await screen.findByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Join' }))

    expect(await screen.findByRole('link', { name: 'general' })).toBeDefined()
    expect(sentBody(fetchMock, '/api/auth/register')).toEqual({
      username: 'ada',
      password: 'correct horse',
      inviteCode: 'inv1te',
    })
    expect(window.location.pathname).toBe('/')
  })

  it("shows the fingerprint an invite link carries, to compare with the admin's", async () => {
    const fp = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89'
    window.history.replaceState(null, '', `/join/inv1te#sha256=${fp.toUpperCase()}`)
    stubServer({ 'GET /api/server': ready, 'GET /api/me': unauthorized })
    renderApp(fakeConnection().connect)

    const note = await screen.findByText(/Compare this fingerprint with the one your admin sees:/)
    expect(note.querySelector('code')?.textContent).toBe(fp)
    window.history.replaceState(null, '', '/')
  })

  it('shows no fingerprint for an invite link without one', async () => {
    window.history.replaceState(null, '', '/join/inv1te')
    stubServer({ 'GET /api/server': ready, 'GET /api/me': unauthorized })
    renderApp(fakeConnection().connect)

    expect(await screen.findByRole('button', { name: 'Join' })).toBeDefined()
    expect(screen.queryByText(/Compare this fingerprint/)).toBeNull()
    window.history.replaceState(null, '', '/')
  })

  it('says so when an invite is not valid any more', async () => {
    window.history.replaceState(null, '', '/join/old')
    stubServer({
      'GET /api/server': ready,
      'GET /api/me': unauthorized,
      'POST /api/auth/register': () =>
        json(403, {
          error: { code: 'forbidden', message: 'The invite code is not valid or has expired.' },
        }),
    })
    renderApp(fakeConnection().connect)
    const user = userEvent.setup()

    await user.type(await screen.findByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Join' }))

    expect((await screen.findByRole('alert')).textContent).toMatch(
      /^The invite code is not valid or has expired\./,
    )
  })

  it('goes back to sign-in when the store finds the session gone', async () => {
    stubServer({ 'GET /api/server': ready, 'GET /api/me': () => json(200, { user: ada }) })
    const { connect, store, stream } = fakeConnection()
    vi.spyOn(store, 'start').mockRejectedValue(
      new ApiRequestError(401, 'unauthorized', 'The session is not valid; sign in again.'),
    )
    const streamStop = vi.spyOn(stream, 'stop')
    renderApp(connect)

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()
    expect(streamStop).toHaveBeenCalledOnce()
  })

  it('goes back to sign-in when any later request finds the session ended', async () => {
    stubServer({
      'GET /api/server': ready,
      'GET /api/me': () => json(200, { user: ada }),
      'GET /api/chats': unauthorized,
    })
    const { connect, store, stream } = fakeConnection()
    const stop = vi.spyOn(store, 'stop')
    const streamStop = vi.spyOn(stream, 'stop')
    const { api } = renderApp(connect)
    expect(await screen.findByRole('link', { name: 'general' })).toBeDefined()

    // e.g. the stream's poll, after the session was signed out elsewhere or expired
    await act(() => expect(api.listChats()).rejects.toMatchObject({ status: 401 }))

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()
    expect(stop).toHaveBeenCalledOnce()
    expect(streamStop).toHaveBeenCalledOnce()
  })

  it('goes back to sign-in when the stream says the session ended', async () => {
    let signedIn = true
    stubServer({
      'GET /api/server': ready,
      'GET /api/me': () => (signedIn ? json(200, { user: ada }) : unauthorized()),
    })
    const { connect, stream } = fakeConnection()
    const streamStop = vi.spyOn(stream, 'stop')
    renderApp(connect)
    expect(await screen.findByRole('link', { name: 'general' })).toBeDefined()

    // The DOM can show the workspace before its effects have run: App hears SESSION_ENDED
    // from an effect, which runs with (or before) any other listener of that commit.
    await vi.waitFor(() => expect(stream.eventListenerCount).toBeGreaterThan(0))
    signedIn = false // e.g. the password was changed on another device
    act(() => stream.emit({ type: 'SESSION_ENDED', reason: 'password_changed', timestamp: 1 }))

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()
    expect(streamStop).toHaveBeenCalled()
  })

  it('signs out at once when an admin deactivates the account, and says so', async () => {
    stubServer({ 'GET /api/server': ready, 'GET /api/me': () => json(200, { user: ada }) })
    const { connect, store, stream } = fakeConnection()
    const stop = vi.spyOn(store, 'stop')
    renderApp(connect)
    expect(await screen.findByRole('link', { name: 'general' })).toBeDefined()
    await vi.waitFor(() => expect(stream.eventListenerCount).toBeGreaterThan(0))

    act(() => stream.emit({ type: 'SESSION_ENDED', reason: 'deactivated', timestamp: 1 }))

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()
    expect(screen.getByRole('alert').textContent).toBe('Your account was deactivated by an admin.')
    expect(stop).toHaveBeenCalled()
  })

  it('sets a new password with a reset link, and says when the link is used up', async () => {
    window.history.replaceState(null, '', '/reset/tok123')
    let used = false
    const fetchMock = stubServer({
      'GET /api/server': ready,
      'GET /api/me': unauthorized,
      'POST /api/auth/password-reset': () => {
        if (used) return json(403, { error: { code: 'forbidden', message: 'This link does not work.' } })
        used = true
        return new Response(null, { status: 204 })
      },
    })
    renderApp(fakeConnection().connect)
    const user = userEvent.setup()

    expect(await screen.findByRole('heading', { name: 'Set a new password' })).toBeDefined()
    await user.type(screen.getByLabelText('New password'), 'new secret 1')
    await user.type(screen.getByLabelText('New password again'), 'new secret 2')
    expect(screen.getByText('Not the same as the first.')).toBeDefined()
    await user.click(screen.getByRole('button', { name: 'Change password' }))
    expect(screen.getByRole('alert').textContent).toBe('The two passwords differ.')
    expect(calls(fetchMock)).not.toContain('POST /api/auth/password-reset')

    await user.clear(screen.getByLabelText('New password again'))
    await user.type(screen.getByLabelText('New password again'), 'new secret 1')
    await user.click(screen.getByRole('button', { name: 'Change password' }))
    expect((await screen.findByRole('status')).textContent).toMatch(/^Password changed — sign in/)
    expect(sentBody(fetchMock, '/api/auth/password-reset')).toEqual({ token: 'tok123', newPassword: 'new secret 1' })
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByLabelText('Username')).toBeDefined()
    expect(window.location.pathname).toBe('/')

    act(() => {
      window.history.pushState(null, '', '/reset/tok123')
      window.dispatchEvent(new PopStateEvent('popstate'))
    })
    await user.type(await screen.findByLabelText('New password'), 'new secret 3')
    await user.type(screen.getByLabelText('New password again'), 'new secret 3')
    await user.click(screen.getByRole('button', { name: 'Change password' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/used already or it expired/)
  })

  it('goes back to sign-in when another tab signs out', async () => {
    let signedIn = true
    stubServer({
      'GET /api/server': ready,
      'GET /api/me': () => (signedIn ? json(200, { user: ada }) : unauthorized()),
    })
    const { connect, store, stream } = fakeConnection()
    const streamStop = vi.spyOn(stream, 'stop')
    const stop = vi.spyOn(store, 'stop')
    const tabs = new FakeSessionChannel()
    renderApp(connect, tabs)
    expect(await screen.findByRole('link', { name: 'general' })).toBeDefined()

    signedIn = false
    act(() => tabs.otherTabAnnounces())

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()
    expect(stop).toHaveBeenCalled()
    expect(streamStop).toHaveBeenCalled()
    expect(tabs.announced).toBe(0) // it only follows
  })

  it('follows another tab that signs in, as whoever it signs in as', async () => {
    const bob = member('u2', 'Bob')
    let me: typeof ada | null = null
    stubServer({
      'GET /api/server': ready,
      'GET /api/me': () => (me === null ? unauthorized() : json(200, { user: me })),
    })
    const connections: { store: FakeChatStore; stream: FakeEventStream }[] = []
    const connect = vi.fn<Connect>((user) => {
      const connection = { store: new FakeChatStore(snapshot({ me: user })), stream: new FakeEventStream() }
      connections.push(connection)
      return connection
    })
    window.history.replaceState(null, '', '/chats/c1')
    const tabs = new FakeSessionChannel()
    renderApp(connect, tabs)
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()

    me = ada
    act(() => tabs.otherTabAnnounces())
    expect(await screen.findByRole('button', { name: 'Sign out' })).toBeDefined()
    expect(connect).toHaveBeenLastCalledWith(ada, 30_000)

    // Signed out there and in again as bob: this tab must not go on as ada with bob's cookie.
    me = bob
    const adas = connections[0]
    const stop = adas && vi.spyOn(adas.store, 'stop')
    const streamStop = adas && vi.spyOn(adas.stream, 'stop')
    act(() => tabs.otherTabAnnounces())

    expect(await screen.findByRole('heading', { name: 'Welcome, Bob' })).toBeDefined()
    expect(connect).toHaveBeenLastCalledWith(bob, 30_000)
    expect(stop).toHaveBeenCalledOnce()
    expect(streamStop).toHaveBeenCalledOnce()
    expect(window.location.pathname).toBe('/') // ada's chat is not bob's
    expect(tabs.announced).toBe(0)
  })

  it('does not lose an announcement that arrives while the first check is still out', async () => {
    let me: typeof ada | null = null
    let answerFirstCheck: (r: Response) => void = () => undefined
    let checks = 0
    stubServer({
      'GET /api/server': ready,
      'GET /api/me': () => {
        checks++
        // The first check is answered only after the other tab signed in: with the old answer.
        if (checks === 1) return new Promise<Response>((resolve) => (answerFirstCheck = resolve))
        return me === null ? unauthorized() : json(200, { user: me })
      },
    })
    const connect = vi.fn<Connect>((user) => ({
      store: new FakeChatStore(snapshot({ me: user })),
      stream: new FakeEventStream(),
    }))
    const tabs = new FakeSessionChannel()
    renderApp(connect, tabs)
    await vi.waitFor(() => expect(checks).toBe(1))

    me = ada
    act(() => tabs.otherTabAnnounces())
    await act(() => Promise.resolve(answerFirstCheck(unauthorized())))

    expect(await screen.findByRole('button', { name: 'Sign out' })).toBeDefined()
    expect(connect).toHaveBeenLastCalledWith(ada, 30_000)
  })

  it('says when the server cannot be reached, and tries again', async () => {
    const fetchMock = stubServer({})
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'))
    renderApp(fakeConnection().connect)

    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not reach the server: Failed to fetch',
    )
    fetchMock.mockImplementation(() => Promise.resolve(unauthorized()))
    fetchMock.mockImplementationOnce(() => Promise.resolve(ready()))
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }))

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeDefined()
  })
})
