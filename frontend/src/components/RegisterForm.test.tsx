import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError, type RegisterParams, type Session } from '../api/client'
import type { User } from '../api/types'
import { RegisterForm } from './RegisterForm'
import { ada } from './testFakes'

function setup(register: (params: RegisterParams) => Promise<Session>, inviteCode?: string) {
  const onRegistered = vi.fn<(user: User) => void>()
  render(
    <RegisterForm
      title="Join the team"
      intro="You were invited."
      submitLabel="Join"
      inviteCode={inviteCode}
      register={register}
      onRegistered={onRegistered}
    />,
  )
  return { onRegistered, user: userEvent.setup() }
}

describe('RegisterForm', () => {
  it('registers with the invite code, leaving out an empty display name', async () => {
    const register = vi
      .fn<(params: RegisterParams) => Promise<Session>>()
      .mockResolvedValue({ user: ada, token: 't' })
    const { onRegistered, user } = setup(register, 'c0de')

    await user.type(screen.getByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    expect(screen.getByRole('textbox', { name: 'Display name' })).toBeDefined()
    await user.click(screen.getByRole('button', { name: 'Join' }))

    expect(register).toHaveBeenCalledExactlyOnceWith({
      username: 'ada',
      password: 'correct horse',
      inviteCode: 'c0de',
    })
    expect(onRegistered).toHaveBeenCalledExactlyOnceWith(ada)
  })

  it('sends a display name when one is given', async () => {
    const register = vi
      .fn<(params: RegisterParams) => Promise<Session>>()
      .mockResolvedValue({ user: ada, token: 't' })
    const { user } = setup(register)

    await user.type(screen.getByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Display name'), '  Ada Lovelace ')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Join' }))

    expect(register).toHaveBeenCalledExactlyOnceWith({
      username: 'ada',
      password: 'correct horse',
      displayName: 'Ada Lovelace',
    })
  })

  it('says clearly when the invite is not valid any more', async () => {
    const { onRegistered, user } = setup(
      () =>
        Promise.reject(
          new ApiRequestError(403, 'forbidden', 'The invite code is not valid or has expired.'),
        ),
      'old',
    )

    await user.type(screen.getByLabelText('Username'), 'ada')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Join' }))

    expect((await screen.findByRole('alert')).textContent).toBe(
      'The invite code is not valid or has expired. Ask an admin of this server for a new invite link.',
    )
    expect(onRegistered).not.toHaveBeenCalled()
  })
})
