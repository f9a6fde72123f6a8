import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import { DesktopClient, type DesktopState, isDesktopApp } from './desktop'

function stubFetch(...responses: Response[]) {
  const fetchMock = vi.fn<typeof fetch>()
  for (const response of responses) fetchMock.mockResolvedValueOnce(response)
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

function sent(fetchMock: ReturnType<typeof stubFetch>, call = 0) {
  const [url, init] = fetchMock.mock.calls[call] ?? []
  const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body
  return { url, method: init?.method, body }
}

const state: DesktopState = {
  configured: true,
  mode: 'host',
  serverUrl: 'http://127.0.0.1:7878',
  hostAddr: '0.0.0.0:7878',
  teamName: 'Engines',
  signedIn: true,
  connection: 'Live',
  unread: 2,
  keepInTray: true,
  lanUrl: 'http://192.168.1.20:7878',
}

describe('DesktopClient', () => {
  it('posts the focus state as {focused}', async () => {
    const fetchMock = stubFetch(new Response(null, { status: 204 }))

    await new DesktopClient().focus(false)

    expect(sent(fetchMock)).toEqual({ url: '/desktop/focus', method: 'POST', body: { focused: false } })
  })

  it('reads the state, and puts settings', async () => {
    const fetchMock = stubFetch(json(200, state), json(200, { ...state, keepInTray: false }))
    const client = new DesktopClient()

    expect(await client.state()).toEqual(state)
    expect(await client.saveSettings({ keepInTray: false })).toMatchObject({ keepInTray: false })

    expect(sent(fetchMock, 0)).toEqual({ url: '/desktop/state', method: 'GET', body: undefined })
    expect(sent(fetchMock, 1)).toEqual({ url: '/desktop/settings', method: 'PUT', body: { keepInTray: false } })
  })

  it('posts host and join requests', async () => {
    const fetchMock = stubFetch(
      json(200, { inviteUrl: 'http://h:7878/join/c', lanUrl: 'http://h:7878' }),
      json(200, { next: '/join/c' }),
      new Response(null, { status: 204 }),
    )
    const client = new DesktopClient()
    const params = { hostAddr: '0.0.0.0:7878', teamName: 'T', username: 'ada', displayName: 'Ada', password: 'p' }

    expect(await client.host(params)).toEqual({ inviteUrl: 'http://h:7878/join/c', lanUrl: 'http://h:7878' })
    expect(await client.join('http://h:7878/join/c')).toEqual({ next: '/join/c' })
    await client.reset()

    expect(sent(fetchMock, 0)).toEqual({ url: '/desktop/host', method: 'POST', body: params })
    expect(sent(fetchMock, 1)).toEqual({
      url: '/desktop/join',
      method: 'POST',
      body: { serverUrl: 'http://h:7878/join/c' },
    })
    expect(sent(fetchMock, 2)).toEqual({ url: '/desktop/reset', method: 'POST', body: undefined })
  })

  it("rejects with the app's error code and message", async () => {
    stubFetch(json(409, { error: { code: 'address_in_use', message: 'Port 7878 is in use.' } }))

    await expect(
      new DesktopClient().host({ hostAddr: ':7878', teamName: 'T', username: 'a', displayName: 'A', password: 'p' }),
    ).rejects.toMatchObject({ status: 409, code: 'address_in_use', message: 'Port 7878 is in use.' })
  })

  it('reports a body without an error by its HTTP status, and no answer as status 0', async () => {
    const fetchMock = stubFetch(new Response('oops', { status: 500, statusText: 'Internal Server Error' }))
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'))
    const client = new DesktopClient()

    await expect(client.state()).rejects.toMatchObject({ status: 500, message: 'Internal Server Error' })
    const failure = client.state()
    await expect(failure).rejects.toBeInstanceOf(ApiRequestError)
    await expect(failure).rejects.toMatchObject({ status: 0, code: 'unreachable' })
  })
})

describe('isDesktopApp', () => {
  it('knows the app by the Wails runtime on window', () => {
    expect(isDesktopApp()).toBe(false)
    ;(window as { runtime?: unknown }).runtime = {}
    try {
      expect(isDesktopApp()).toBe(true)
    } finally {
      delete (window as { runtime?: unknown }).runtime
    }
  })
})
