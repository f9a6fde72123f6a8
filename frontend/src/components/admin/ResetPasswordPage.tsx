import { useId, useState, type FormEvent } from 'react'
import { ApiRequestError, errorMessage } from '../../api/client'
import { AuthLayout } from '../AuthLayout'

/** backend.MinPasswordLen and MaxPasswordLen (bytes). */
const MIN_PASSWORD_LENGTH = 8
const MAX_PASSWORD_LENGTH = 256

interface ResetPasswordPageProps {
  /** The token of the link (/reset/{token}). */
  token: string
  /** POST /api/auth/password-reset: 403 for a link that is unknown, used or expired. */
  resetPassword: (token: string, newPassword: string) => Promise<void>
  /** Leaves for the sign-in page. */
  onSignIn: () => void
}

type State = { status: 'editing' | 'sending' } | { status: 'done' } | { status: 'failed'; message: string; linkDead: boolean }

/**
 * The page an admin's password-reset link opens: the new password twice. The link works once
 * within 24 h; the server ends every session of the account when it is used.
 */
export function ResetPasswordPage({ token, resetPassword, onSignIn }: ResetPasswordPageProps) {
  const ids = useId()
  const [password, setPassword] = useState('')
  const [again, setAgain] = useState('')
  const [state, setState] = useState<State>({ status: 'editing' })
  const mismatch = again !== '' && again !== password

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (password !== again) {
      setState({ status: 'failed', message: 'The two passwords differ.', linkDead: false })
      return
    }
    setState({ status: 'sending' })
    try {
      await resetPassword(token, password)
      setState({ status: 'done' })
    } catch (err) {
      const linkDead = err instanceof ApiRequestError && (err.status === 403 || err.status === 404)
      setState({
        status: 'failed',
        linkDead,
        message: linkDead
          ? 'This link does not work any more: it was used already or it expired (links work once, for 24 hours). Ask an admin for a new one.'
          : errorMessage(err),
      })
    }
  }

  if (state.status === 'done') {
    return (
      <AuthLayout title="Password changed">
        <p role="status">Password changed — sign in with your new password.</p>
        <button type="button" className="primary-wide" onClick={onSignIn}>
          Sign in
        </button>
      </AuthLayout>
    )
  }

  return (
    <AuthLayout title="Set a new password">
      <form className="form" onSubmit={(event) => void submit(event)}>
        <p className="muted">An admin gave you this link. It works once.</p>
        <div className="field">
          <label htmlFor={`${ids}-new`}>New password</label>
          <input
            id={`${ids}-new`}
            name="new-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            maxLength={MAX_PASSWORD_LENGTH}
            aria-describedby={`${ids}-hint`}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          <small id={`${ids}-hint`} className="hint">
            At least {MIN_PASSWORD_LENGTH} characters.
          </small>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-again`}>New password again</label>
          <input
            id={`${ids}-again`}
            name="new-password-again"
            type="password"
            autoComplete="new-password"
            required
            aria-invalid={mismatch || undefined}
            aria-describedby={mismatch ? `${ids}-mismatch` : undefined}
            value={again}
            onChange={(event) => setAgain(event.target.value)}
          />
          {mismatch && (
            <small id={`${ids}-mismatch`} className="hint">
              Not the same as the first.
            </small>
          )}
        </div>
        {state.status === 'failed' && (
          <p className="error" role="alert">
            {state.message}
          </p>
        )}
        <button type="submit" className="primary-wide" disabled={state.status === 'sending'}>
          Change password
        </button>
        {state.status === 'failed' && state.linkDead && (
          <button type="button" className="secondary" onClick={onSignIn}>
            Go to sign in
          </button>
        )}
      </form>
    </AuthLayout>
  )
}
