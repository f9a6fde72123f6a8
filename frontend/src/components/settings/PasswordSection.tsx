import { useId, useState, type FormEvent } from 'react'
import { ApiRequestError, errorMessage } from '../../api/client'
import type { AccountApi } from './AccountSettings'

/** The server's password limits (backend.MinPasswordLen, MaxPasswordLen), in bytes. */
const MIN_PASSWORD_LEN = 8
const MAX_PASSWORD_LEN = 256

type State = { state: 'idle' } | { state: 'saving' } | { state: 'done' } | { state: 'failed'; message: string }

/** Change the password: the current one, the new one twice. The server ends every other session. */
export function PasswordSection({ api }: { api: Pick<AccountApi, 'changePassword'> }) {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [again, setAgain] = useState('')
  const [status, setStatus] = useState<State>({ state: 'idle' })
  const id = useId()

  function problem(): string | null {
    if (current === '') return 'Enter your current password.'
    const bytes = new TextEncoder().encode(next).length
    if (bytes < MIN_PASSWORD_LEN) return `The new password needs at least ${MIN_PASSWORD_LEN} characters.`
    if (bytes > MAX_PASSWORD_LEN) return `The new password may have at most ${MAX_PASSWORD_LEN} characters.`
    if (next !== again) return 'The two new passwords are not the same.'
    return null
  }

  async function save(event: FormEvent) {
    event.preventDefault()
    const wrong = problem()
    if (wrong) {
      setStatus({ state: 'failed', message: wrong })
      return
    }
    setStatus({ state: 'saving' })
    try {
      await api.changePassword(current, next)
      setCurrent('')
      setNext('')
      setAgain('')
      setStatus({ state: 'done' })
    } catch (err) {
      const message =
        err instanceof ApiRequestError && err.status === 403 ? 'The current password is not right.' : errorMessage(err)
      setStatus({ state: 'failed', message })
    }
  }

  const failed = status.state === 'failed'
  const edit = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value)
    if (status.state !== 'saving') setStatus({ state: 'idle' })
  }
  return (
    <form className="settings-group password-form" aria-labelledby={`${id}-h`} onSubmit={(e) => void save(e)} noValidate>
      <h2 id={`${id}-h`}>Password</h2>
      <p className="hint">Changing it signs you out on every other device.</p>
      <input type="text" name="username" autoComplete="username" hidden readOnly />
      <label htmlFor={`${id}-cur`}>Current password</label>
      <input id={`${id}-cur`} type="password" autoComplete="current-password" value={current} onChange={edit(setCurrent)} aria-describedby={failed ? `${id}-err` : undefined} />
      <label htmlFor={`${id}-new`}>New password</label>
      <input id={`${id}-new`} type="password" autoComplete="new-password" value={next} onChange={edit(setNext)} aria-describedby={`${id}-rule`} />
      <p className="hint" id={`${id}-rule`}>
        At least {MIN_PASSWORD_LEN} characters.
      </p>
      <label htmlFor={`${id}-again`}>New password again</label>
      <input id={`${id}-again`} type="password" autoComplete="new-password" value={again} onChange={edit(setAgain)} />
      <div className="settings-buttons">
        <button type="submit" disabled={status.state === 'saving'}>
          Change password
        </button>
      </div>
      {failed ? (
        <p id={`${id}-err`} className="error" role="alert">
          {status.message}
        </p>
      ) : (
        <p className="settings-state" role="status">
          {status.state === 'saving'
            ? 'Changing…'
            : status.state === 'done'
              ? 'Password changed. Your other devices are signed out.'
              : ''}
        </p>
      )}
    </form>
  )
}
