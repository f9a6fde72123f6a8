import { useCallback, useEffect, useId, useState } from 'react'
import { errorMessage } from '../../api/client'
import type { Session } from '../../api/types'
import { Modal } from '../Modal'
import { sessionTime } from './accountModel'
import type { AccountApi } from './AccountSettings'

type Api = Pick<AccountApi, 'listSessions' | 'endSession' | 'revokeOtherSessions'>

/** The devices signed in to this account: end one, or every one but this. */
export function SessionsSection({ api, now }: { api: Api; now: () => number }) {
  const [sessions, setSessions] = useState<Session[] | null>(null)
  const [total, setTotal] = useState(0)
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState('')
  const [busy, setBusy] = useState<string | null>(null)
  const [confirming, setConfirming] = useState(false)
  const [attempt, setAttempt] = useState(0)
  const headingId = useId()

  const reload = useCallback(() => setAttempt((n) => n + 1), [])
  useEffect(() => {
    let live = true
    api.listSessions().then(
      (page) => {
        if (!live) return
        setSessions(page.sessions)
        setTotal(page.total)
        setError(null)
      },
      (err: unknown) => {
        if (live) setError(errorMessage(err))
      },
    )
    return () => {
      live = false
    }
  }, [api, attempt])

  async function end(session: Session) {
    setBusy(session.id)
    setError(null)
    try {
      await api.endSession(session.id)
      setNotice(`Signed out ${session.device ?? 'the device'}.`)
      reload()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(null)
    }
  }

  async function endOthers() {
    setConfirming(false)
    setBusy('others')
    setError(null)
    try {
      const n = await api.revokeOtherSessions()
      setNotice(n === 1 ? 'Signed out 1 other session.' : `Signed out ${n} other sessions.`)
      reload()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(null)
    }
  }

  const at = now()
  const others = sessions?.filter((s) => !s.current) ?? []
  return (
    <section className="settings-group" aria-labelledby={headingId}>
      <h2 id={headingId}>Sessions</h2>
      <p className="hint">The devices signed in to your account{total > (sessions?.length ?? 0) ? ` (${total}; the newest are listed)` : ''}.</p>
      {sessions === null && !error && <p className="page-status">Loading sessions…</p>}
      {sessions && (
        <ul className="session-list" aria-label="Sessions">
          {sessions.map((s) => (
            <li key={s.id} className="session">
              <div className="session-text">
                <p className="session-device">
                  {s.device ?? 'Unknown device'}
                  {s.current && <span className="this-device">This device</span>}
                </p>
                <p className="session-detail">
                  {s.ip ? <>IP {s.ip} · </> : null}
                  Signed in {sessionTime(s.createdAt, at)} · Last seen {s.current ? 'now' : sessionTime(s.lastSeenAt, at)}
                </p>
              </div>
              {!s.current && (
                <button
                  type="button"
                  className="secondary small"
                  disabled={busy !== null}
                  aria-label={`Sign out ${s.device ?? 'this session'}, last seen ${sessionTime(s.lastSeenAt, at)}`}
                  onClick={() => void end(s)}
                >
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {others.length > 0 && (
        <div className="settings-buttons">
          <button type="button" className="danger" disabled={busy !== null} onClick={() => setConfirming(true)}>
            Sign out everywhere else
          </button>
        </div>
      )}
      <p className="settings-state" role="status">
        {notice}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}{' '}
          <button type="button" className="secondary small" onClick={reload}>
            Try again
          </button>
        </p>
      )}
      {confirming && (
        <Modal title="Sign out everywhere else?" onClose={() => setConfirming(false)}>
          <p>
            {others.length === 1 ? 'The other session' : `All ${others.length} other sessions`} will be signed out. This
            device stays signed in.
          </p>
          <div className="dialog-actions">
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={() => void endOthers()}>
              Sign out everywhere else
            </button>
          </div>
        </Modal>
      )}
    </section>
  )
}
