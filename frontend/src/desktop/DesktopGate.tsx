import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react'
import { errorMessage } from '../api/client'
import { type DesktopClient, isDesktopApp } from './desktop'
import { AuthLayout } from '../components/AuthLayout'
import { DesktopSetup } from './DesktopSetup'

interface DesktopGateProps {
  client: Pick<DesktopClient, 'state' | 'host' | 'join' | 'retry'> &
    Partial<Pick<DesktopClient, 'addresses' | 'lan' | 'saveSettings'>>
  /** The web client (App). */
  children: ReactNode
  /** Tests: whether the page runs in the desktop app; isDesktopApp() by default. */
  desktop?: boolean
  assign?: (url: string) => void
  /** Called once, after the first screen past "Loading…" (chooser, error or web client) is on
   * screen: the app starts listening to the window's focus then, so its first focus report also
   * tells it (and its tests) that the page is up. */
  onShown?: () => void
}

/**
 * In the desktop app, asks the app whether a team has been chosen (GET /desktop/state) and shows
 * the first-run setup until one has; then, and in a browser at once, the web client. Until a
 * team is chosen /api/* leads nowhere, so the web client must not start before.
 */
export function DesktopGate({ client, children, desktop = isDesktopApp(), assign, onShown }: DesktopGateProps) {
  if (!desktop) return children
  return (
    <ConfiguredGate client={client} assign={assign} onShown={onShown}>
      {children}
    </ConfiguredGate>
  )
}

type GateState =
  | { status: 'loading' }
  | { status: 'failed'; message: string }
  | { status: 'problem'; message: string }
  | { status: 'setup' }
  | { status: 'ready' }

function ConfiguredGate({ client, children, assign, onShown }: Omit<DesktopGateProps, 'desktop'>) {
  const [state, setState] = useState<GateState>({ status: 'loading' })
  const [attempt, setAttempt] = useState(0)
  const shown = useRef(false)

  const loaded = state.status !== 'loading'
  // A layout effect: it runs in the commit that puts the first screen in the DOM, so whoever sees
  // that screen has been told (a passive effect may run later, after the screen is seen).
  useLayoutEffect(() => {
    if (loaded && !shown.current) {
      shown.current = true
      onShown?.()
    }
  }, [loaded, onShown])

  useEffect(() => {
    let current = true
    client.state().then(
      ({ configured, problem }) => {
        if (!current) return
        if (problem) setState({ status: 'problem', message: problem })
        else setState({ status: configured ? 'ready' : 'setup' })
      },
      (err: unknown) => {
        if (current) setState({ status: 'failed', message: errorMessage(err) })
      },
    )
    return () => {
      current = false
    }
  }, [client, attempt])

  switch (state.status) {
    case 'loading':
      return <p className="page-status">Loading…</p>
    case 'failed':
      return (
        <main className="auth">
          <div className="auth-card">
            <p className="error" role="alert">
              Could not start Herald: {state.message}
            </p>
            <button
              type="button"
              onClick={() => {
                setState({ status: 'loading' })
                setAttempt((n) => n + 1)
              }}
            >
              Try again
            </button>
          </div>
        </main>
      )
    case 'problem':
      return (
        <TeamProblem
          message={state.message}
          retry={async () => {
            await client.retry()
            setState({ status: 'loading' })
            setAttempt((n) => n + 1)
          }}
        />
      )
    case 'setup':
      return <DesktopSetup client={client} assign={assign} />
    case 'ready':
      return children
  }
}

/** The chosen team could not be started (its port is taken, its address is gone): say why, and
 * offer to try again or to change the team — never the first-run chooser over a team that exists. */
function TeamProblem({ message, retry }: { message: string; retry: () => Promise<void> }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  return (
    <AuthLayout title="Herald could not start your team">
      <p className="error" role="alert">
        {message}
      </p>
      {error && (
        <p className="error" role="alert">
          Still not started: {error}
        </p>
      )}
      <button
        type="button"
        className="primary-wide"
        disabled={busy}
        onClick={() => {
          setBusy(true)
          setError(null)
          retry().then(
            () => setBusy(false),
            (err: unknown) => {
              setError(errorMessage(err))
              setBusy(false)
            },
          )
        }}
      >
        {busy ? 'Trying…' : 'Try again'}
      </button>
    </AuthLayout>
  )
}
