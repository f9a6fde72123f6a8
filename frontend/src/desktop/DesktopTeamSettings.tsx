import { useEffect, useId, useState } from 'react'
import { errorMessage } from '../api/client'
import { Modal } from '../components/Modal'
import { type DesktopBackup, type DesktopClient, desktopClient, type DesktopSettings, type DesktopState, isDesktopApp } from './desktop'
import './desktop.css'

type TeamClient = Pick<DesktopClient, 'state' | 'saveSettings' | 'reset' | 'backUp'>

interface DesktopTeamSettingsProps {
  client?: TeamClient
  /** Loads the app afresh after a reset (window.location.assign('/'); tests pass a spy). */
  reload?: () => void
  /** Tests: whether the page runs in the desktop app; isDesktopApp() by default. */
  desktop?: boolean
}

/**
 * The settings page's Team section, in the desktop app only (nothing in a browser): which team
 * the app hosts or joined, whether closing the window keeps it in the tray, a hosted team's
 * backups ("Back up now" and the last one), and a way back to the first-run choice.
 */
export function DesktopTeamSettings({
  client = desktopClient,
  reload = reloadApp,
  desktop = isDesktopApp(),
}: DesktopTeamSettingsProps) {
  if (!desktop) return null
  return <TeamSection client={client} reload={reload} />
}

function reloadApp() {
  window.location.assign('/')
}

type Load = { status: 'loading' } | { status: 'failed'; message: string } | { status: 'ready'; state: DesktopState }

function TeamSection({ client, reload }: { client: TeamClient; reload: () => void }) {
  const [load, setLoad] = useState<Load>({ status: 'loading' })
  const [attempt, setAttempt] = useState(0)
  const [saving, setSaving] = useState(false)
  const [saveError, setSaveError] = useState<string | null>(null)
  const headingId = useId()

  useEffect(() => {
    let current = true
    client.state().then(
      (state) => {
        if (current) setLoad({ status: 'ready', state })
      },
      (err: unknown) => {
        if (current) setLoad({ status: 'failed', message: errorMessage(err) })
      },
    )
    return () => {
      current = false
    }
  }, [client, attempt])

  async function save(settings: DesktopSettings) {
    setSaving(true)
    setSaveError(null)
    try {
      const state = await client.saveSettings(settings)
      setLoad({ status: 'ready', state })
    } catch (err) {
      setSaveError(errorMessage(err))
    } finally {
      setSaving(false)
    }
  }

  return (
    <section className="settings-group desktop-team" aria-labelledby={headingId}>
      <h2 id={headingId}>Team</h2>
      {load.status === 'loading' && <p className="hint">Loading…</p>}
      {load.status === 'failed' && (
        <>
          <p className="error" role="alert">
            Could not ask the app about the team: {load.message}
          </p>
          <div>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setLoad({ status: 'loading' })
                setAttempt((n) => n + 1)
              }}
            >
              Try again
            </button>
          </div>
        </>
      )}
      {load.status === 'ready' && (
        <>
          <TeamFacts state={load.state} />
          <label className="check">
            <input
              type="checkbox"
              checked={load.state.keepInTray}
              disabled={saving}
              aria-describedby={saveError ? `${headingId}-tray-error` : undefined}
              onChange={(event) => void save({ keepInTray: event.target.checked })}
            />
            Keep running in the tray when the window is closed
          </label>
          {load.state.mode === 'host' && load.state.lanAvailable !== false && (
            <div>
              <label className="check">
                <input
                  type="checkbox"
                  checked={load.state.lanAnnounce ?? true}
                  disabled={saving}
                  aria-describedby={`${headingId}-lan-hint`}
                  onChange={(event) => void save({ lanAnnounce: event.target.checked })}
                />
                Announce this team on the local network
              </label>
              <small id={`${headingId}-lan-hint`} className="hint">
                Herald apps on this network then list it on their Join screen, with this computer&apos;s address
                and certificate fingerprint.
              </small>
            </div>
          )}
          {saveError && (
            <p id={`${headingId}-tray-error`} className="error" role="alert">
              Not saved: {saveError}
            </p>
          )}
          {load.state.mode === 'host' && (
            <Backups
              client={client}
              last={load.state.lastBackup}
              onBackedUp={(lastBackup) => {
                setLoad((l) => (l.status === 'ready' ? { status: 'ready', state: { ...l.state, lastBackup } } : l))
              }}
            />
          )}
          <div>
            <ChangeTeam client={client} reload={reload} state={load.state} />
          </div>
        </>
      )}
    </section>
  )
}

function TeamFacts({ state }: { state: DesktopState }) {
  const hosting = state.mode === 'host'
  return (
    <dl className="desktop-team-facts">
      {state.teamName && (
        <>
          <dt>Team</dt>
          <dd dir="auto">{state.teamName}</dd>
        </>
      )}
      <dt>This computer</dt>
      <dd>{hosting ? 'Hosts the team server' : state.mode === 'join' ? 'Joined a team server' : 'No team yet'}</dd>
      {hosting && state.hostAddr && (
        <>
          <dt>Listens on</dt>
          <dd>{state.hostAddr}</dd>
        </>
      )}
      {state.serverUrl && (
        <>
          <dt>Server</dt>
          <dd>{state.serverUrl}</dd>
        </>
      )}
      {state.lanUrl && (
        <>
          <dt>Others connect to</dt>
          <dd>{state.lanUrl}</dd>
        </>
      )}
      <dt>Connection</dt>
      <dd>{state.connection}</dd>
      {(state.outbox ?? 0) > 0 && (
        <>
          <dt>Waiting to send</dt>
          <dd>
            {state.outbox === 1 ? '1 message' : `${state.outbox} messages`}, sent when the server is back
          </dd>
        </>
      )}
      {(state.nativeFailures ?? 0) > 0 && (
        <>
          <dt>Desktop notifications</dt>
          <dd>Not available on this desktop (no notification service): Herald shows them in its window</dd>
        </>
      )}
      {state.hasTray === false && (
        <>
          <dt>Tray icon</dt>
          <dd>Not available on this desktop: closing the window quits Herald</dd>
        </>
      )}
    </dl>
  )
}

/** A hosted team's "Back up now" and its last backup. */
function Backups({
  client,
  last,
  onBackedUp,
}: {
  client: Pick<DesktopClient, 'backUp'>
  last?: DesktopBackup
  onBackedUp: (backup: DesktopBackup) => void
}) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [done, setDone] = useState(false)

  async function backUp() {
    setBusy(true)
    setError(null)
    setDone(false)
    try {
      onBackedUp(await client.backUp())
      setDone(true)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="desktop-backups">
      <dl className="desktop-team-facts">
        <dt>Last backup</dt>
        <dd>
          {last ? (
            <>
              {formatBackupTime(last.createdAt)}, {formatBytes(last.size)}
              <br />
              <span className="desktop-backup-path">{last.path}</span>
            </>
          ) : (
            'None yet'
          )}
        </dd>
      </dl>
      <div>
        <button type="button" className="secondary" disabled={busy} onClick={() => void backUp()}>
          {busy ? 'Backing up…' : 'Back up now'}
        </button>
      </div>
      <p role="status" className="hint">
        {done && !busy ? 'Backed up.' : ''}
      </p>
      {error && (
        <p className="error" role="alert">
          Backup failed: {error}
        </p>
      )}
    </div>
  )
}

function formatBackupTime(iso: string): string {
  const at = new Date(iso)
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** Bytes in the largest unit that keeps the number at least 1 (KiB, MiB, GiB; one decimal). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

interface ChangeTeamButtonProps {
  client?: Pick<DesktopClient, 'reset'>
  reload?: () => void
  /** Tests: whether the page runs in the desktop app; isDesktopApp() by default. */
  desktop?: boolean
}

/**
 * "Change team…" with its confirmation, in the desktop app only: for screens where the team
 * cannot be used (its server cannot be reached), so that the user is not stuck with it.
 */
export function ChangeTeamButton({
  client = desktopClient,
  reload = reloadApp,
  desktop = isDesktopApp(),
}: ChangeTeamButtonProps) {
  if (!desktop) return null
  return <ChangeTeam client={client} reload={reload} />
}

function ChangeTeam({
  client,
  reload,
  state,
}: {
  client: Pick<DesktopClient, 'reset'>
  reload: () => void
  state?: DesktopState
}) {
  const [confirming, setConfirming] = useState(false)
  return (
    <>
      <button type="button" className="secondary" onClick={() => setConfirming(true)}>
        Change team…
      </button>
      {confirming && (
        <ChangeTeamDialog
          state={state}
          reset={() => client.reset()}
          onReset={reload}
          onClose={() => setConfirming(false)}
        />
      )}
    </>
  )
}

function ChangeTeamDialog({
  state,
  reset,
  onReset,
  onClose,
}: {
  state?: DesktopState
  reset: () => Promise<void>
  onReset: () => void
  onClose: () => void
}) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const team = state?.teamName ? `“${state.teamName}”` : 'this team'

  async function confirm() {
    setBusy(true)
    setError(null)
    try {
      await reset()
      onReset() // the page reloads into the first-run choice; busy stays on until it does
    } catch (err) {
      setBusy(false)
      setError(errorMessage(err))
    }
  }

  return (
    <Modal title="Change team?" onClose={busy ? () => undefined : onClose}>
      <p>
        Herald leaves {team} on this computer and shows the first-run choice again: host a team or join one.
      </p>
      {state?.mode === 'host' && (
        <p>While this computer no longer hosts it, the team&apos;s server is offline for everyone.</p>
      )}
      {error && (
        <p className="error" role="alert">
          Could not change the team: {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="button" onClick={() => void confirm()} disabled={busy}>
          {busy ? 'Changing…' : 'Change team'}
        </button>
      </div>
    </Modal>
  )
}
