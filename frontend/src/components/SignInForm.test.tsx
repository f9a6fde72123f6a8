import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError, type Session } from '../api/client'
import type { User } from '../api/types'
import { SignInForm } from './SignInForm'
import { ada } from './testFakes'

function setup(login: (username: string, password: string) => Promise<Session>) {
  const onSignedIn = vi.fn<(user: User) => void>()
  render(<SignInForm login={login} onSignedIn={onSignedIn} />)
  return { onSignedIn, user: userEvent.setup() }
}

describe('SignInForm', () => {
  it('has a Username and a Password field and a Sign in button', async () => {
    const login = vi
      .fn<(username: string, password: string) => Promise<Session>>()
      .mockResolvedValue({ user: ada, token: 't0k3n' })
    const { onSignedIn, user } = setup(login)

    expect(screen.getByRole('heading', { name: 'Sign in' })).toBeDefined()
    await user.type(screen.getByLabelText('Username'), 'ada')
    const password = screen.getByLabelText('Password')
    expect(password).toHaveProperty('type', 'password')
    await user.type(password, 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))

    expect(login).toHaveBeenCalledExactlyOnceWith('ada', 'correct horse')
    expect(onSignedIn).toHaveBeenCalledExactlyOnceWith(ada)
  })

  it.each([
    [
      new ApiRequestError(401, 'unauthorized', 'Wrong username or password.'),
      'Wrong username or password.',
    ],
    [
      new ApiRequestError(429, 'rate_limited', 'Too many attempts; try again in 3 s.'),
      'Too many attempts; try again in 3 s.',
    ],
    [new TypeError('Failed to fetch'), 'Failed to fetch'],
  ])('shows %s in an alert and lets the user try again', async (error, text) => {
    const { onSignedIn, user } = setup(() => Promise.reject(error))

    await user.type(screen.getByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'wrong password')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))

    expect((await screen.findByRole('alert')).textContent).toBe(text)
    expect(screen.getByRole('button', { name: 'Sign in' })).toHaveProperty('disabled', false)
    expect(onSignedIn).not.toHaveBeenCalled()
  })
})
