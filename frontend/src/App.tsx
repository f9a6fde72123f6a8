import { useEffect, useState } from 'react'
import { ApiRequestError, errorMessage, type ApiClient } from './api/client'
import type { User } from './api/types'
import { SignInForm } from './components/SignInForm'
import { Workspace } from './components/Workspace'

type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; user: User }
  | { status: 'failed'; message: string }

export function App({ api }: { api: ApiClient }) {
  const [session, setSession] = useState<SessionState>({ status: 'loading' })

  useEffect(() => {
    let current = true
    api.me().then(
      (user) => {
        if (current) setSession({ status: 'signed-in', user })
      },
      (err: unknown) => {
        if (!current) return
        if (err instanceof ApiRequestError && err.status === 401) {
          setSession({ status: 'signed-out' })
        } else {
          setSession({ status: 'failed', message: errorMessage(err) })
        }
      },
    )
    return () => {
      current = false
    }
  }, [api])

  switch (session.status) {
    case 'loading':
      return <p className="status">Loading…</p>
    case 'failed':
      return (
        <p className="status error" role="alert">
          Could not reach the server: {session.message}
        </p>
      )
    case 'signed-out':
      return (
        <SignInForm api={api} onSignedIn={(user) => setSession({ status: 'signed-in', user })} />
      )
    case 'signed-in':
      return (
        <Workspace
          api={api}
          user={session.user}
          onSignedOut={() => setSession({ status: 'signed-out' })}
        />
      )
  }
}
