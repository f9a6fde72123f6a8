import { useState, type FormEvent } from 'react'
import { errorMessage, type ApiClient } from '../api/client'
import type { User } from '../api/types'

interface SignInFormProps {
  api: ApiClient
  onSignedIn: (user: User) => void
}

export function SignInForm({ api, onSignedIn }: SignInFormProps) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function signIn(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setPending(true)
    setError(null)
    try {
      const { user } = await api.login(username, password)
      onSignedIn(user)
    } catch (err) {
      setError(errorMessage(err))
      setPending(false)
    }
  }

  return (
    <main className="sign-in">
      <h1>Herald</h1>
      <form onSubmit={(event) => void signIn(event)}>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            required
            value={username}
            onChange={(event) => setUsername(event.target.value)}
          />
        </label>
        <label>
          Password
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
        <button type="submit" disabled={pending}>
          Sign in
        </button>
      </form>
    </main>
  )
}
