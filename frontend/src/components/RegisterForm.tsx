import { useId, useState, type FormEvent, type ReactNode } from 'react'
import { ApiRequestError, errorMessage, type RegisterParams, type Session } from '../api/client'
import type { User } from '../api/types'
import { AuthLayout } from './AuthLayout'

// The server's rules (backend/httpapi/validate.go), checked here too so the browser can say so
// before a round trip.
const USERNAME_PATTERN = '[A-Za-z0-9._\\-]{2,32}'
const MIN_PASSWORD_LENGTH = 8
const MAX_DISPLAY_NAME_LENGTH = 64

interface RegisterFormProps {
  title: string
  intro: ReactNode
  submitLabel: string
  /** Registers with this invite (/join/{code}); none for the first, admin, account. */
  inviteCode?: string
  register: (params: RegisterParams) => Promise<Session>
  onRegistered: (user: User) => void
}

/** Account creation: the first-run admin account, or joining with an invite. */
export function RegisterForm({
  title,
  intro,
  submitLabel,
  inviteCode,
  register,
  onRegistered,
}: RegisterFormProps) {
  const [username, setUsername] = useState('')
  const [displayName, setDisplayName] = useState('')
  const [password, setPassword] = useState('')
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const ids = useId()

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setPending(true)
    setError(null)
    try {
      const params: RegisterParams = { username, password }
      if (displayName.trim() !== '') params.displayName = displayName.trim()
      if (inviteCode !== undefined) params.inviteCode = inviteCode
      const { user } = await register(params)
      onRegistered(user)
    } catch (err) {
      setError(describeError(err, inviteCode !== undefined))
      setPending(false)
    }
  }

  return (
    <AuthLayout title={title}>
      <div className="auth-intro">{intro}</div>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor={`${ids}-username-input`}>Username</label>
          <input
            id={`${ids}-username-input`}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            pattern={USERNAME_PATTERN}
            aria-describedby={`${ids}-username`}
            value={username}
            onChange={(event) => setUsername(event.target.value)}
          />
          <small id={`${ids}-username`} className="hint">
            2 to 32 letters, digits, dots, dashes or underscores.
          </small>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-display-input`}>Display name</label>
          <input
            id={`${ids}-display-input`}
            name="displayName"
            autoComplete="name"
            maxLength={MAX_DISPLAY_NAME_LENGTH}
            aria-describedby={`${ids}-display`}
            value={displayName}
            onChange={(event) => setDisplayName(event.target.value)}
          />
          <small id={`${ids}-display`} className="hint">
            Optional. How others see you; your username if empty.
          </small>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-password-input`}>Password</label>
          <input
            id={`${ids}-password-input`}
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            aria-describedby={`${ids}-password`}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          <small id={`${ids}-password`} className="hint">
            At least {MIN_PASSWORD_LENGTH} characters.
          </small>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary-wide" disabled={pending}>
          {submitLabel}
        </button>
      </form>
    </AuthLayout>
  )
}

function describeError(err: unknown, withInvite: boolean): string {
  if (withInvite && err instanceof ApiRequestError && err.status === 403) {
    return `${err.message} Ask an admin of this server for a new invite link.`
  }
  return errorMessage(err)
}
