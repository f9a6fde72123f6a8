import { useId, useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/client'
import { MAX_TEAM_NAME_LEN, type ChannelCreation, type TeamSettings } from '../../api/types'
import type { AdminApi } from './adminApi'
import { TeamIconCard } from './TeamIconCard'

interface TeamSectionProps {
  api: AdminApi
  /** The settings as the store last heard them (GET /api/team, TEAM_UPDATED). */
  team: TeamSettings | undefined
}

/** The team's name, who may create channels and its icon. Saving sends TEAM_UPDATED to everyone. */
export function TeamSection({ api, team }: TeamSectionProps) {
  const ids = useId()
  const [name, setName] = useState(team?.name ?? '')
  const [creation, setCreation] = useState<ChannelCreation>(team?.channelCreation ?? 'everyone')
  const [edited, setEdited] = useState(false)
  const [saving, setSaving] = useState(false)
  const [status, setStatus] = useState('')
  const [error, setError] = useState<string | null>(null)

  // The form follows the settings (TEAM_UPDATED) until the admin edits it.
  const [heard, setHeard] = useState(team)
  if (team !== heard) {
    setHeard(team)
    if (team && !edited) {
      setName(team.name)
      setCreation(team.channelCreation)
    }
  }

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setSaving(true)
    setError(null)
    setStatus('')
    try {
      const saved = await api.updateTeam({ name: name.trim(), channelCreation: creation })
      setName(saved.name)
      setCreation(saved.channelCreation)
      setEdited(false)
      setStatus('Saved.')
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setSaving(false)
    }
  }

  const edit = () => {
    setEdited(true)
    setStatus('')
  }

  return (
    <section className="admin-section" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Team settings</h2>
      <form className="admin-card form" onSubmit={(event) => void save(event)}>
        <div className="field">
          <label htmlFor={`${ids}-name`}>Team name</label>
          <input
            id={`${ids}-name`}
            required
            maxLength={MAX_TEAM_NAME_LEN}
            aria-describedby={`${ids}-name-hint`}
            value={name}
            onChange={(event) => {
              setName(event.target.value)
              edit()
            }}
          />
          <small id={`${ids}-name-hint`} className="hint">
            Shown at the top of everyone&apos;s sidebar. Up to {MAX_TEAM_NAME_LEN} characters.
          </small>
        </div>
        <fieldset className="admin-choices">
          <legend>Who can create channels</legend>
          <label className="check">
            <input
              type="radio"
              name={`${ids}-creation`}
              checked={creation === 'everyone'}
              onChange={() => {
                setCreation('everyone')
                edit()
              }}
            />
            Everyone
          </label>
          <label className="check">
            <input
              type="radio"
              name={`${ids}-creation`}
              checked={creation === 'admins'}
              onChange={() => {
                setCreation('admins')
                edit()
              }}
            />
            Admins only
          </label>
          <small className="hint">Private chats and direct messages stay open to everyone.</small>
        </fieldset>
        {error && (
          <p className="error" role="alert">
            Could not save: {error}
          </p>
        )}
        <div className="admin-save">
          <button type="submit" disabled={saving || name.trim() === ''}>
            Save
          </button>
          <span className="muted" role="status">
            {status}
          </span>
        </div>
      </form>
      <TeamIconCard api={api} iconUrl={team?.iconUrl} />
    </section>
  )
}
