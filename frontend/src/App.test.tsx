import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { App } from './App'
import { ApiClient, ApiRequestError } from './api/client'
import type { Chat, User } from './api/types'

const ada: User = {
  id: 'u1',
  username: 'ada',
  displayName: 'Ada Lovelace',
  role: 'admin',
  createdAt: 1_700_000_000_000,
}

const general: Chat = {
  id: 'c1',
  name: 'general',
  memberIds: ['u1'],
  createdBy: 'u1',
  createdAt: 1_700_000_000_000,
  unread: 3,
}

function signedOutApi(): ApiClient {
  const api = new ApiClient()
  vi.spyOn(api, 'me').mockRejectedValue(
    new ApiRequestError(401, 'unauthenticated', 'Sign in first.'),
  )
  return api
}

describe('App', () => {
  it('asks for a username and password when nobody is signed in', async () => {
    render(<App api={signedOutApi()} />)

    expect(await screen.findByLabelText('Username')).toBeInstanceOf(HTMLInputElement)
    expect(screen.getByLabelText('Password')).toHaveProperty('type', 'password')
    expect(screen.getByRole('button', { name: 'Sign in' })).toHaveProperty('disabled', false)
  })

  it('signs in and lists the chats', async () => {
    const api = signedOutApi()
    const login = vi.spyOn(api, 'login').mockResolvedValue({ user: ada, token: 't0k3n' })
    vi.spyOn(api, 'listChats').mockResolvedValue([general])
    const user = userEvent.setup()
    render(<App api={api} />)

    await user.type(await screen.findByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))

    expect(login).toHaveBeenCalledWith('ada', 'correct horse')
    expect(await screen.findByText('Signed in as Ada Lovelace')).toBeDefined()
    expect(await screen.findByText('general')).toBeDefined()
    expect(screen.getByLabelText('3 unread')).toBeDefined()
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeDefined()
  })

  it('shows why signing in failed', async () => {
    const api = signedOutApi()
    vi.spyOn(api, 'login').mockRejectedValue(
      new ApiRequestError(401, 'invalid_credentials', 'Wrong username or password.'),
    )
    const user = userEvent.setup()
    render(<App api={api} />)

    await user.type(await screen.findByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'wrong')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))

    expect((await screen.findByRole('alert')).textContent).toBe('Wrong username or password.')
    expect(screen.getByRole('button', { name: 'Sign in' })).toHaveProperty('disabled', false)
  })
})
