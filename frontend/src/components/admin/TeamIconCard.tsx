import { useEffect, useId, useRef, useState } from 'react'
import { errorMessage } from '../../api/client'
import { isImageAvatar } from '../Avatar'
import { avatarFileProblem } from '../settings/accountModel'
import type { AdminApi } from './adminApi'

/**
 * The source of the team's icon at 64 or 256 px, or null without one: the uploaded icon's own
 * path (`/api/team/icon?v=N`, a new URL each upload) with the size, or an https URL an admin set.
 */
export function teamIconSrc(iconUrl: string | undefined, size: 64 | 256): string | null {
  if (!iconUrl) return null
  if (iconUrl.startsWith('/api/team/icon?')) return `${iconUrl}&size=${size}`
  return isImageAvatar(iconUrl) ? iconUrl : null
}

type State = { state: 'idle' | 'busy' } | { state: 'done' | 'failed'; message: string }

interface TeamIconCardProps {
  api: Pick<AdminApi, 'uploadTeamIcon' | 'deleteTeamIcon'>
  /** The icon as the store last heard it (TEAM_UPDATED). */
  iconUrl: string | undefined
}

/**
 * The team's icon: pick an image (PNG, JPEG or GIF, at most 5 MB, checked before sending), see
 * it cropped to the square the server keeps, upload it (PUT /api/team/icon; the server's refusal
 * of a file it cannot read is shown), or remove the icon. Everyone gets TEAM_UPDATED.
 */
export function TeamIconCard({ api, iconUrl }: TeamIconCardProps) {
  const ids = useId()
  const [picked, setPicked] = useState<{ file: File; url: string | null } | null>(null)
  const [status, setStatus] = useState<State>({ state: 'idle' })
  // The answer's icon until TEAM_UPDATED brings it (or another admin's).
  const [current, setCurrent] = useState(iconUrl)
  const [heard, setHeard] = useState(iconUrl)
  if (iconUrl !== heard) {
    setHeard(iconUrl)
    setCurrent(iconUrl)
  }
  const inputRef = useRef<HTMLInputElement>(null)
  useEffect(
    () => () => {
      if (picked?.url) URL.revokeObjectURL(picked.url)
    },
    [picked],
  )

  function pick(next: File | null) {
    if (!next) {
      setPicked(null)
      if (inputRef.current) inputRef.current.value = ''
      return
    }
    setPicked({ file: next, url: typeof URL.createObjectURL === 'function' ? URL.createObjectURL(next) : null })
  }

  function choose(file: File | undefined) {
    if (!file) return
    const problem = avatarFileProblem(file)
    if (problem) {
      pick(null)
      setStatus({ state: 'failed', message: problem })
      return
    }
    pick(file)
    setStatus({ state: 'idle' })
  }

  async function run(action: () => Promise<{ iconUrl?: string }>, done: string) {
    setStatus({ state: 'busy' })
    try {
      const team = await action()
      setCurrent(team.iconUrl)
      pick(null)
      setStatus({ state: 'done', message: done })
    } catch (err) {
      setStatus({ state: 'failed', message: errorMessage(err) })
    }
  }

  const busy = status.state === 'busy'
  const src = teamIconSrc(current, 256)
  const file = picked?.file
  return (
    <section className="admin-card form" aria-labelledby={`${ids}-heading`}>
      <h3 id={`${ids}-heading`}>Team icon</h3>
      <div className="team-icon-row">
        {picked?.url ? (
          <img className="team-icon-preview" src={picked.url} alt="Preview of the new icon, cropped to a square" width={64} height={64} />
        ) : src ? (
          <img className="team-icon-preview" src={src} alt="The team's icon" width={64} height={64} />
        ) : (
          <span className="team-icon-preview team-icon-none muted">No icon</span>
        )}
        <div className="field">
          <label htmlFor={`${ids}-file`}>Choose an icon (PNG, JPEG or GIF, at most 5 MB)</label>
          <input
            ref={inputRef}
            id={`${ids}-file`}
            type="file"
            accept="image/png,image/jpeg,image/gif"
            disabled={busy}
            aria-describedby={`${ids}-hint${status.state === 'failed' ? ` ${ids}-error` : ''}`}
            onChange={(event) => choose(event.target.files?.[0])}
          />
          <small id={`${ids}-hint`} className="hint">
            Shown beside the team name in everyone&apos;s sidebar; the server keeps its centred square.
          </small>
        </div>
      </div>
      <div className="admin-save">
        <button type="button" disabled={!file || busy} onClick={() => file && void run(() => api.uploadTeamIcon(file), 'The icon is saved.')}>
          Upload icon
        </button>
        {file && !busy && (
          <button type="button" className="secondary" onClick={() => pick(null)}>
            Cancel
          </button>
        )}
        {current && !file && (
          <button type="button" className="secondary" disabled={busy} onClick={() => void run(() => api.deleteTeamIcon(), 'The icon is removed.')}>
            Remove icon
          </button>
        )}
      </div>
      {status.state === 'failed' ? (
        <p id={`${ids}-error`} className="error" role="alert">
          Could not change the icon: {status.message}
        </p>
      ) : (
        <p className="muted" role="status">
          {status.state === 'done' ? status.message : status.state === 'busy' ? 'Saving…' : ''}
        </p>
      )}
    </section>
  )
}
