import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiRequestError, isQueuedPost } from './client'
import type { Chat, Message, User } from './types'

const ada: User = {
  id: 'u1',
  username: 'ada',
  displayName: 'Ada Lovelace',
  role: 'admin',
  createdAt: 1_700_000_000_000,
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

function stubFetch(response: Response) {
  const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(response)
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

describe('ApiClient', () => {
  it('asks the network only (no-store) for fresh chat lists and message pages', async () => {
    const fetchMock = vi.fn<typeof fetch>(() => Promise.resolve(jsonResponse(200, { chats: [], messages: [], hasMore: false })))
    vi.stubGlobal('fetch', fetchMock)
    const api = new ApiClient()

    await api.listChats({ fresh: true })
    await api.listMessages('c1', { after: 'E1', limit: 200, fresh: true })
    await api.listChats()
    await api.listMessages('c1', { limit: 50 })

    expect(fetchMock.mock.calls.map(([url, init]) => [url, init?.cache])).toEqual([
      ['/api/chats', 'no-store'],
      ['/api/chats/c1/messages?after=E1&limit=200', 'no-store'],
      ['/api/chats', undefined],
      ['/api/chats/c1/messages?limit=50', undefined],
    ])
  })

  it('posts credentials as JSON and returns the session', async () => {
    const fetchMock = stubFetch(jsonResponse(200, { user: ada, token: 't0k3n' }))

    const session = await new ApiClient().login('ada', 'correct horse')

    expect(session).toEqual({ user: ada, token: 't0k3n' })
    expect(fetchMock).toHaveBeenCalledTimes(1)
    const [url, init] = fetchMock.mock.calls[0] ?? []
    expect(url).toBe('/api/auth/login')
    expect(init?.method).toBe('POST')
    expect(init?.credentials).toBe('same-origin')
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json')
    expect(init?.body).toBe(JSON.stringify({ username: 'ada', password: 'correct horse' }))
  })

  it('throws ApiRequestError with the status, code and message of an error body', async () => {
    stubFetch(jsonResponse(401, { error: { code: 'unauthenticated', message: 'Sign in first.' } }))

    const failure = new ApiClient().me()

    await expect(failure).rejects.toBeInstanceOf(ApiRequestError)
    await expect(failure).rejects.toMatchObject({
      status: 401,
      code: 'unauthenticated',
      message: 'Sign in first.',
    })
  })

  it('tells onUnauthorized listeners when a 401 says the session ended, not when sign-in fails', async () => {
    const unauthorized = { error: { code: 'unauthorized', message: 'Sign in first.' } }
    const fetchMock = vi.fn<typeof fetch>(() => Promise.resolve(jsonResponse(401, unauthorized)))
    vi.stubGlobal('fetch', fetchMock)
    const api = new ApiClient()
    const ended = vi.fn()
    const unsubscribe = api.onUnauthorized(ended)

    await expect(api.login('ada', 'wrong')).rejects.toMatchObject({ status: 401 })
    await expect(api.register({ username: 'ada', password: 'x', inviteCode: 'old' })).rejects.toMatchObject({
      status: 401,
    })
    expect(ended).not.toHaveBeenCalled()

    await expect(api.listChats()).rejects.toMatchObject({ status: 401 })
    await expect(api.postMessage('c1', 'hi', 'cid')).rejects.toMatchObject({ status: 401 })
    expect(ended).toHaveBeenCalledTimes(2)

    fetchMock.mockResolvedValueOnce(jsonResponse(403, { error: { code: 'forbidden', message: 'No.' } }))
    await expect(api.listChats()).rejects.toMatchObject({ status: 403 })
    unsubscribe()
    await expect(api.me()).rejects.toMatchObject({ status: 401 })
    expect(ended).toHaveBeenCalledTimes(2)
  })

  it('reports a response that is not an API error by its HTTP status', async () => {
    stubFetch(new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' }))

    await expect(new ApiClient().listChats()).rejects.toMatchObject({
      status: 502,
      code: 'http_error',
      message: 'Bad Gateway',
    })
  })

  it('sends the paging parameters of a message history request in the query', async () => {
    const message: Message = {
      id: 'm2',
      chatId: 'c/1',
      authorId: 'u1',
      content: 'hello',
      createdAt: 1_700_000_000_001,
    }
    const fetchMock = stubFetch(jsonResponse(200, { messages: [message], hasMore: true }))

    const page = await new ApiClient().listMessages('c/1', { before: 'm3', limit: 20 })

    expect(page).toEqual({ messages: [message], hasMore: true })
    const [url, init] = fetchMock.mock.calls[0] ?? []
    expect(url).toBe('/api/chats/c%2F1/messages?before=m3&limit=20')
    expect(init?.method).toBe('GET')
    expect(init?.body).toBeUndefined()
  })
})

describe('ApiClient additions for the chat screens', () => {
  const chat: Chat = {
    id: 'c1',
    kind: 'private',
    name: 'general',
    topic: '',
    memberIds: ['u1', 'u2'],
    ownerIds: ['u1'],
    archived: false,
    createdBy: 'u1',
    createdAt: 1_700_000_000_000,
  }

  it.each<{
    name: string
    call: (api: ApiClient) => Promise<unknown>
    status: number
    body: unknown
    url: string
    method: string
    sent: unknown
    result: unknown
  }>([
    {
      name: 'serverInfo',
      call: (api) => api.serverInfo(),
      status: 200,
      body: { needsSetup: true, keepaliveMs: 30_000 },
      url: '/api/server',
      method: 'GET',
      sent: undefined,
      result: { needsSetup: true, keepaliveMs: 30_000 },
    },
    {
      name: 'createInvite',
      call: (api) => api.createInvite(),
      status: 201,
      body: { code: 'abc', url: 'http://h/join/abc', expiresAt: 1_700_000_100_000 },
      url: '/api/invites',
      method: 'POST',
      sent: {}, // no options: the server's defaults (100 uses, 7 days)
      result: { code: 'abc', url: 'http://h/join/abc', expiresAt: 1_700_000_100_000 },
    },
    {
      name: 'listUsers',
      call: (api) => api.listUsers(),
      status: 200,
      body: { users: [{ ...ada, online: true }] },
      url: '/api/users',
      method: 'GET',
      sent: undefined,
      result: [{ ...ada, online: true }],
    },
    {
      name: 'getChat',
      call: (api) => api.getChat('c/1'),
      status: 200,
      body: { chat },
      url: '/api/chats/c%2F1',
      method: 'GET',
      sent: undefined,
      result: chat,
    },
    {
      name: 'addMember',
      call: (api) => api.addMember('c1', 'u2'),
      status: 200,
      body: { chat },
      url: '/api/chats/c1/members',
      method: 'POST',
      sent: { userId: 'u2' },
      result: chat,
    },
    {
      name: 'createChat (a channel with a topic)',
      call: (api) => api.createChat('ops', ['u2'], { kind: 'channel', topic: 'On call' }),
      status: 201,
      body: { chat },
      url: '/api/chats',
      method: 'POST',
      sent: { name: 'ops', memberIds: ['u2'], kind: 'channel', topic: 'On call' },
      result: chat,
    },
    {
      name: 'browseChannels',
      call: (api) => api.browseChannels(),
      status: 200,
      body: { channels: [{ id: 'c1', name: 'ops', ownerIds: ['u1'], createdAt: 1, memberCount: 2, joined: false }] },
      url: '/api/chats/browse',
      method: 'GET',
      sent: undefined,
      result: [{ id: 'c1', name: 'ops', ownerIds: ['u1'], createdAt: 1, memberCount: 2, joined: false }],
    },
    {
      name: 'joinChat',
      call: (api) => api.joinChat('c1'),
      status: 200,
      body: { chat },
      url: '/api/chats/c1/join',
      method: 'POST',
      sent: undefined,
      result: chat,
    },
    {
      name: 'removeMember',
      call: (api) => api.removeMember('c1', 'u/2'),
      status: 200,
      body: { chat },
      url: '/api/chats/c1/members/u%2F2',
      method: 'DELETE',
      sent: undefined,
      result: chat,
    },
    {
      name: 'updateChat',
      call: (api) => api.updateChat('c1', { topic: 'Releases', archived: false }),
      status: 200,
      body: { chat },
      url: '/api/chats/c1',
      method: 'PATCH',
      sent: { topic: 'Releases', archived: false },
      result: chat,
    },
    {
      name: 'createDM',
      call: (api) => api.createDM(['u2', 'u3']),
      status: 201,
      body: { chat },
      url: '/api/dms',
      method: 'POST',
      sent: { userIds: ['u2', 'u3'] },
      result: chat,
    },
    {
      name: 'createBot (with an emoji)',
      call: (api) => api.createBot('Build Bot', '🤖'),
      status: 201,
      body: { bot: ada, token: 'tok' },
      url: '/api/bots',
      method: 'POST',
      sent: { name: 'Build Bot', avatar: '🤖' },
      result: { bot: ada, token: 'tok' },
    },
    {
      name: 'createBot (no avatar)',
      call: (api) => api.createBot('Build Bot'),
      status: 201,
      body: { bot: ada, token: 'tok' },
      url: '/api/bots',
      method: 'POST',
      sent: { name: 'Build Bot' },
      result: { bot: ada, token: 'tok' },
    },
    {
      name: 'deleteTeamIcon',
      call: (api) => api.deleteTeamIcon(),
      status: 200,
      body: { team: { name: 'Acme', channelCreation: 'everyone' } },
      url: '/api/team/icon',
      method: 'DELETE',
      sent: undefined,
      result: { name: 'Acme', channelCreation: 'everyone' },
    },
  ])('$name calls $method $url and unwraps the answer', async (c) => {
    const { call, status, body, url, method, sent, result } = c
    const fetchMock = stubFetch(jsonResponse(status, body))

    await expect(call(new ApiClient())).resolves.toEqual(result)

    const [calledUrl, init] = fetchMock.mock.calls[0] ?? []
    expect(calledUrl).toBe(url)
    expect(init?.method).toBe(method)
    expect(init?.body).toBe(sent === undefined ? undefined : JSON.stringify(sent))
  })

  it.each([
    {
      name: 'markRead',
      call: (api: ApiClient) => api.markRead('c1', 'm9'),
      url: '/api/chats/c1/read',
      sent: JSON.stringify({ messageId: 'm9' }),
    },
    {
      name: 'typing',
      call: (api: ApiClient) => api.typing('c1'),
      url: '/api/chats/c1/typing',
      sent: undefined,
    },
    {
      name: 'leaveChat',
      call: (api: ApiClient) => api.leaveChat('c1'),
      url: '/api/chats/c1/leave',
      sent: undefined,
    },
  ])('$name posts to $url and accepts the empty 204 answer', async ({ call, url, sent }) => {
    const fetchMock = stubFetch(new Response(null, { status: 204 }))

    await expect(call(new ApiClient())).resolves.toBeUndefined()

    const [calledUrl, init] = fetchMock.mock.calls[0] ?? []
    expect(calledUrl).toBe(url)
    expect(init?.method).toBe('POST')
    expect(init?.body).toBe(sent)
  })

  it('uploads the team icon as the request body, typed as the file', async () => {
    const team = { name: 'Acme', iconUrl: '/api/team/icon?v=2', channelCreation: 'everyone' }
    const fetchMock = stubFetch(jsonResponse(200, { team }))
    const image = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' })

    await expect(new ApiClient().uploadTeamIcon(image)).resolves.toEqual(team)

    const [calledUrl, init] = fetchMock.mock.calls[0] ?? []
    expect(calledUrl).toBe('/api/team/icon')
    expect(init?.method).toBe('PUT')
    expect(init?.body).toBe(image)
    expect((init?.headers as Record<string, string>)['Content-Type']).toBe('image/png')
  })

  it('rejects addMember with the server error', async () => {
    const message = 'Only members can add members to this chat.'
    stubFetch(jsonResponse(403, { error: { code: 'forbidden', message } }))

    await expect(new ApiClient().addMember('c1', 'u3')).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    })
  })
})

describe('ApiClient.postMessage in the desktop app', () => {
  const stored: Message = {
    id: 'm1',
    chatId: 'c1',
    authorId: 'u1',
    content: 'hi',
    clientId: 'cid',
    createdAt: 1_700_000_000_001,
  }

  it('returns the stored message of a 201', async () => {
    stubFetch(jsonResponse(201, { message: stored }))

    const result = await new ApiClient().postMessage('c1', 'hi', 'cid')

    expect(result).toEqual(stored)
    expect(isQueuedPost(result)).toBe(false)
  })

  it("returns the app's queued post of a 202, not a message", async () => {
    const queued = { queued: true, message: { chatId: 'c1', content: 'hi', clientId: 'cid', createdAt: 5 } }
    stubFetch(jsonResponse(202, queued))

    const result = await new ApiClient().postMessage('c1', 'hi', 'cid')

    expect(result).toEqual(queued)
    expect(isQueuedPost(result)).toBe(true)
  })
})

describe('ApiClient: edits, deletes, threads, reactions, pins, search', () => {
  const message: Message = {
    id: 'm2',
    chatId: 'c1',
    authorId: 'u1',
    content: 'hello again',
    createdAt: 1_700_000_000_001,
    editedAt: 1_700_000_000_500,
  }

  it.each<{
    name: string
    call: (api: ApiClient) => Promise<unknown>
    body: unknown
    url: string
    method: string
    sent: unknown
    result: unknown
  }>([
    {
      name: 'editMessage',
      call: (api) => api.editMessage('c1', 'm/2', 'hello again'),
      body: { message },
      url: '/api/chats/c1/messages/m%2F2',
      method: 'PATCH',
      sent: { content: 'hello again' },
      result: message,
    },
    {
      name: 'listMessages around',
      call: (api) => api.listMessages('c1', { around: 'm2', limit: 50 }),
      body: { messages: [message], hasMore: false, hasMoreAfter: true },
      url: '/api/chats/c1/messages?around=m2&limit=50',
      method: 'GET',
      sent: undefined,
      result: { messages: [message], hasMore: false, hasMoreAfter: true },
    },
    {
      name: 'listReplies',
      call: (api) => api.listReplies('c1', 'm1', { before: 'm9', limit: 30 }),
      body: { messages: [message], hasMore: true },
      url: '/api/chats/c1/messages/m1/replies?before=m9&limit=30',
      method: 'GET',
      sent: undefined,
      result: { messages: [message], hasMore: true },
    },
    {
      name: 'listPins',
      call: (api) => api.listPins('c1'),
      body: { messages: [message] },
      url: '/api/chats/c1/pins',
      method: 'GET',
      sent: undefined,
      result: [message],
    },
    {
      name: 'search',
      call: (api) => api.search({ q: 'deploy "release notes"', chatId: 'c1', from: 'u2', cursor: 'k1' }),
      body: { results: [{ message, chatId: 'c1', snippet: '…the deploy…' }], nextCursor: 'k2' },
      url: '/api/search?q=deploy+%22release+notes%22&chatId=c1&from=u2&cursor=k1',
      method: 'GET',
      sent: undefined,
      result: { results: [{ message, chatId: 'c1', snippet: '…the deploy…' }], nextCursor: 'k2' },
    },
    {
      name: 'postMessage as a reply',
      call: (api) => api.postMessage('c1', 'me too', 'cid', { parentId: 'm1', alsoToChat: true }),
      body: { message },
      url: '/api/chats/c1/messages',
      method: 'POST',
      sent: { content: 'me too', clientId: 'cid', parentId: 'm1', alsoToChat: true },
      result: message,
    },
    {
      name: 'postMessage as a reply in the thread only',
      call: (api) => api.postMessage('c1', 'me too', 'cid', { parentId: 'm1', alsoToChat: false }),
      body: { message },
      url: '/api/chats/c1/messages',
      method: 'POST',
      sent: { content: 'me too', clientId: 'cid', parentId: 'm1' },
      result: message,
    },
  ])('$name calls $method $url and unwraps the answer', async ({ call, body, url, method, sent, result }) => {
    const fetchMock = stubFetch(jsonResponse(200, body))

    await expect(call(new ApiClient())).resolves.toEqual(result)

    const [calledUrl, init] = fetchMock.mock.calls[0] ?? []
    expect(calledUrl).toBe(url)
    expect(init?.method).toBe(method)
    expect(init?.body).toBe(sent === undefined ? undefined : JSON.stringify(sent))
  })

  it.each([
    {
      name: 'deleteMessage',
      call: (api: ApiClient) => api.deleteMessage('c1', 'm2'),
      method: 'DELETE',
      url: '/api/chats/c1/messages/m2',
      sent: undefined,
    },
    {
      name: 'addReaction',
      call: (api: ApiClient) => api.addReaction('c1', 'm2', '👍🏽'),
      method: 'PUT',
      url: '/api/chats/c1/messages/m2/reactions/%F0%9F%91%8D%F0%9F%8F%BD',
      sent: undefined,
    },
    {
      name: 'removeReaction of a ZWJ sequence',
      call: (api: ApiClient) => api.removeReaction('c1', 'm2', '👩‍💻'),
      method: 'DELETE',
      url: '/api/chats/c1/messages/m2/reactions/%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB',
      sent: undefined,
    },
    {
      name: 'pinMessage',
      call: (api: ApiClient) => api.pinMessage('c1', 'm2'),
      method: 'PUT',
      url: '/api/chats/c1/pins/m2',
      sent: undefined,
    },
    {
      name: 'unpinMessage',
      call: (api: ApiClient) => api.unpinMessage('c1', 'm2'),
      method: 'DELETE',
      url: '/api/chats/c1/pins/m2',
      sent: undefined,
    },
    {
      name: 'typing in a thread',
      call: (api: ApiClient) => api.typing('c1', 'm1'),
      method: 'POST',
      url: '/api/chats/c1/typing',
      sent: JSON.stringify({ parentId: 'm1' }),
    },
  ])('$name: $method $url, accepting the empty 204 answer', async ({ call, method, url, sent }) => {
    const fetchMock = stubFetch(new Response(null, { status: 204 }))

    await expect(call(new ApiClient())).resolves.toBeUndefined()

    const [calledUrl, init] = fetchMock.mock.calls[0] ?? []
    expect(calledUrl).toBe(url)
    expect(init?.method).toBe(method)
    expect(init?.body).toBe(sent)
  })

  it('surfaces a refusal as ApiRequestError, as every call does', async () => {
    stubFetch(jsonResponse(409, { error: { code: 'conflict', message: 'This message was deleted.' } }))

    await expect(new ApiClient().editMessage('c1', 'm2', 'x')).rejects.toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'This message was deleted.',
    })
  })
})
