import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiRequestError } from './client'
import type { Message, User } from './types'

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
