import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react'
import { ApiRequestError, errorMessage } from './api/client'
import type { User } from './api/types'
import { fingerprintFromLink } from './api/fingerprint'
import { ResetPasswordPage } from './components/admin/ResetPasswordPage'
import { JoinIntro } from './components/Fingerprint'
import { RegisterForm } from './components/RegisterForm'
import { SignInForm } from './components/SignInForm'
import { Workspace } from './components/Workspace'
import { ChangeTeamButton } from './desktop/DesktopTeamSettings'
import { useRoute } from './hooks/useRoute'
import { homePath, navigate, type Route } from './router'
import type { AppApi, Connect, Connection } from './session'
import type { SessionChannel } from './sessionChannel'

type Phase =
  | { status: 'loading' }
  | { status: 'failed'; message: string }
  /** A new server without accounts: the first one becomes the admin. */
  | { status: 'setup'; keepaliveMs: number }
  /** notice: why the session ended, when the user should be told (an admin deactivated it). */
  | { status: 'signed-out'; keepaliveMs: number; notice?: string }
  | {
      status: 'signed-in'
      user: User
      keepaliveMs: number
      connection: Connection
      /** Why the store could not load chats and people, if it could not. */
      loadError: string | null
    }

interface AppProps {
  api: AppApi
  /** Builds the store and stream for a signed-in user (session.ts; fakes in tests). */
  connect: Connect
  /** Sign-ins and sign-outs of the origin's other tabs, which share the session cookie. */
  sessionChannel: SessionChannel
}

/**
 * Asks the server whether it needs its first account (GET /api/server) and who is signed in
 * (GET /api/me), then shows first-run setup, sign-in, join-by-invite or the workspace.
 *
 * The signed-in user's store and stream are started when they sign in and stopped when they sign
 * out (or the server ends the session), in those handlers rather than in an effect: neither can
 * be restarted once stopped, and effects run twice in development (StrictMode). App lives as long
 * as the page.
 *
 * The session can end or change after start-up: any request answered 401 (api.onUnauthorized)
 * shows sign-in; when another tab announces a sign-in or sign-out, GET /api/me says who is
 * signed in now, and App follows (sign-in, or the other user's workspace).
 */
export function App({ api, connect, sessionChannel }: AppProps) {
  const route = useRoute()
  const [phase, setPhase] = useState<Phase>({ status: 'loading' })
  const [attempt, setAttempt] = useState(0)
  // For callbacks that run after a request: the phase as last rendered. A layout effect, so
  // that it is current as soon as the DOM shows the phase (a passive effect may run later).
  const phaseRef = useRef(phase)
  useLayoutEffect(() => {
    phaseRef.current = phase
  }, [phase])

  /** Stops the connection and shows sign-in (with notice, if given), unless the user changed
   * since it was made. */
  const endSession = useCallback((connection: Connection, notice?: string) => {
    connection.store.stop()
    connection.stream.stop()
    setPhase((p) =>
      isCurrent(p, connection)
        ? { status: 'signed-out', keepaliveMs: p.keepaliveMs, ...(notice ? { notice } : {}) }
        : p,
    )
  }, [])

  /** Starts the store; a 401 means the session is gone, anything else is shown with a retry. */
  const startStore = useCallback(
    (connection: Connection) => {
      connection.store.start().then(
        () =>
          setPhase((p) =>
            isCurrent(p, connection) && p.loadError !== null ? { ...p, loadError: null } : p,
          ),
        (err: unknown) => {
          if (err instanceof ApiRequestError && err.status === 401) {
            endSession(connection)
          } else {
            setPhase((p) => (isCurrent(p, connection) ? { ...p, loadError: errorMessage(err) } : p))
          }
        },
      )
    },
    [endSession],
  )

  const enter = useCallback(
    (user: User, keepaliveMs: number) => {
      const connection = connect(user, keepaliveMs)
      startStore(connection)
      connection.stream.start()
      setPhase({ status: 'signed-in', user, keepaliveMs, connection, loadError: null })
    },
    [connect, startStore],
  )

  /** enter() after this tab signed in, telling the other tabs. */
  const signedIn = useCallback(
    (user: User, keepaliveMs: number) => {
      enter(user, keepaliveMs)
      sessionChannel.announce()
    },
    [enter, sessionChannel],
  )

  const connection = phase.status === 'signed-in' ? phase.connection : null
  useEffect(() => {
    if (connection === null) return
    return api.onUnauthorized(() => endSession(connection))
  }, [api, connection, endSession])

  // The server ends a session's streams at once when it ends (a password change elsewhere, an
  // expiry): asking who is signed in answers 401, which ends it here too, without waiting for
  // the stream's reconnects to fail. A deactivated account ends at once, and says why.
  useEffect(() => {
    if (connection === null) return
    return connection.stream.onEvent((event) => {
      if (event.type !== 'SESSION_ENDED') return
      if (event.reason === 'deactivated') {
        navigate(homePath, { replace: true })
        // Every tab hears it on the shared stream: no announcement needed.
        endSession(connection, DEACTIVATED_NOTICE)
      } else {
        void signedInUser(api)
      }
    })
  }, [api, connection, endSession])

  useEffect(
    () =>
      sessionChannel.subscribe(() => {
        void signedInUser(api).then((user) => {
          if (user === undefined) return // the server cannot tell: its next answers will
          const p = phaseRef.current
          if (p.status === 'signed-in') {
            if (user?.id === p.user.id) return
            endSession(p.connection)
            if (user === null) return
            navigate(homePath, { replace: true }) // the chat in the URL may not be theirs
            enter(user, p.keepaliveMs)
          } else if ((p.status === 'signed-out' || p.status === 'setup') && user !== null) {
            enter(user, p.keepaliveMs)
          } else if (p.status === 'loading') {
            setAttempt((n) => n + 1) // the first check may have answered before the change
          }
        })
      }),
    [api, sessionChannel, endSession, enter],
  )

  useEffect(() => {
    let current = true
    void (async () => {
      let next: Phase | { status: 'signed-in'; user: User; keepaliveMs: number }
      try {
        const { needsSetup, keepaliveMs } = await api.serverInfo()
        if (needsSetup) {
          next = { status: 'setup', keepaliveMs }
        } else {
          try {
            next = { status: 'signed-in', user: await api.me(), keepaliveMs }
          } catch (err) {
            if (!(err instanceof ApiRequestError && err.status === 401)) throw err
            next = { status: 'signed-out', keepaliveMs }
          }
        }
      } catch (err) {
        next = { status: 'failed', message: errorMessage(err) }
      }
      if (!current) return
      if (next.status === 'signed-in') enter(next.user, next.keepaliveMs)
      else setPhase(next)
    })()
    return () => {
      current = false
    }
  }, [api, attempt, enter])

  // A reset link works whoever is signed in here: it is for the account it was made for.
  if (route.page === 'reset' && (phase.status === 'signed-out' || phase.status === 'signed-in')) {
    return (
      <ResetPasswordPage
        key={route.token}
        token={route.token}
        resetPassword={(token, newPassword) => api.resetPassword(token, newPassword)}
        onSignIn={() => navigate(homePath, { replace: true })}
      />
    )
  }

  switch (phase.status) {
    case 'loading':
      return <p className="page-status">Loading…</p>
    case 'failed':
      return (
        <main className="auth">
          <div className="auth-card">
            <p className="error" role="alert">
              Could not reach the server: {phase.message}
            </p>
            <button type="button" onClick={() => setAttempt((n) => n + 1)}>
              Try again
            </button>
            <ChangeTeamButton />
          </div>
        </main>
      )
    case 'setup':
      return (
        <RegisterForm
          title="Create the admin account"
          intro={
            <p>
              This server has no accounts yet. The first one administers it: it invites the rest of
              the team.
            </p>
          }
          submitLabel="Create account"
          register={(params) => api.register(params)}
          onRegistered={(user) => {
            navigate(homePath, { replace: true })
            signedIn(user, phase.keepaliveMs)
          }}
        />
      )
    case 'signed-out':
      if (route.page === 'join') {
        return (
          <RegisterForm
            key={route.code}
            title="Join the team"
            intro={<JoinIntro fingerprint={fingerprintFromLink(window.location.hash)} />}
            submitLabel="Join"
            inviteCode={route.code}
            register={(params) => api.register(params)}
            onRegistered={(user) => {
              navigate(homePath, { replace: true })
              signedIn(user, phase.keepaliveMs)
            }}
          />
        )
      }
      return (
        <SignInForm
          notice={phase.notice}
          login={(username, password) => api.login(username, password)}
          onSignedIn={(user) => signedIn(user, phase.keepaliveMs)}
        />
      )
    case 'signed-in': {
      const { connection, keepaliveMs } = phase
      return (
        <SignedIn
          api={api}
          connection={connection}
          loadError={phase.loadError}
          route={route}
          onRetryLoad={() => startStore(connection)}
          onSignedOut={() => {
            connection.store.stop()
            connection.stream.stop()
            navigate(homePath, { replace: true })
            setPhase({ status: 'signed-out', keepaliveMs })
            sessionChannel.announce()
          }}
        />
      )
    }
  }
}

/** What the sign-in page says after an admin deactivated the account (SESSION_ENDED). */
export const DEACTIVATED_NOTICE = 'Your account was deactivated by an admin.'

/** Who is signed in (GET /api/me): null for nobody (401), undefined if the server could not say. */
async function signedInUser(api: AppApi): Promise<User | null | undefined> {
  try {
    return await api.me()
  } catch (err) {
    return err instanceof ApiRequestError && err.status === 401 ? null : undefined
  }
}

function isCurrent(
  phase: Phase,
  connection: Connection,
): phase is Extract<Phase, { status: 'signed-in' }> {
  return phase.status === 'signed-in' && phase.connection === connection
}

interface SignedInProps {
  api: AppApi
  connection: Connection
  loadError: string | null
  route: Route
  onRetryLoad: () => void
  /** Called after the server ended the session (POST /api/auth/logout succeeded). */
  onSignedOut: () => void
}

function SignedIn({ api, connection, loadError, route, onRetryLoad, onSignedOut }: SignedInProps) {
  // An invite link opened while signed in: there is nothing to join.
  useEffect(() => {
    if (route.page === 'join') navigate(homePath, { replace: true })
  }, [route])

  // The dialog shows the certificate's fingerprint for the admin to read out to the invited.
  const createInvite = useCallback(async () => {
    const [invite, info] = await Promise.all([api.createInvite(), api.serverInfo()])
    const fingerprint = fingerprintFromLink(invite.url) ?? info.tlsFingerprint
    return fingerprint ? { ...invite, fingerprint } : invite
  }, [api])

  return (
    <Workspace
      store={connection.store}
      stream={connection.stream}
      notifications={connection.notifications}
      chatId={route.page === 'chat' ? route.chatId : null}
      messageId={route.page === 'chat' ? route.messageId : null}
      threadId={route.page === 'chat' ? route.threadId : null}
      settings={route.page === 'settings'}
      account={route.page === 'account'}
      taskId={route.page === 'task' ? route.taskId : null}
      pagesApi={api}
      adminSection={route.page === 'admin' ? route.section : null}
      adminApi={api}
      monitorApi={api}
      loadError={loadError}
      onRetryLoad={onRetryLoad}
      createInvite={createInvite}
      signOut={async () => {
        await api.logout()
        onSignedOut()
      }}
    />
  )
}
