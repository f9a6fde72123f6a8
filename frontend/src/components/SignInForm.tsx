import { useState, type FormEvent } from 'react'
import { errorMessage, type Session } from '../api/client'
import type { User } from '../api/types'
import { AuthLayout } from './AuthLayout'

interface SignInFormProps {
  login: (username: string, password: string) => Promise<Session>
  onSignedIn: (user: User) => void
  /** Why this browser was signed out, when the user should know (an admin deactivated it). */
  notice?: string
}

export function SignInForm({ login, onSignedIn, notice }: SignInFormProps) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function signIn(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setPending(true)
    setError(null)
    try {
      const { user } = await login(username, password)
      onSignedIn(user)
    } catch (err) {
      setError(errorMessage(err))
      setPending(false)
    }
  }

  return (
    <AuthLayout title="Sign in">
      {notice && (
        <p className="auth-notice" role="alert">
          {notice}
        </p>
      )}
      <form className="form" onSubmit={(event) => void signIn(event)}>
        <label className="field">
          <span>Username</span>
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={username}
            onChange={(event) => setUsername(event.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary-wide" disabled={pending}>
          Sign in
        </button>
      </form>
      <p className="muted auth-note">New here? Ask an admin of this server for an invite link.</p>
    </AuthLayout>
  )
}
