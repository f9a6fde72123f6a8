import { useEffect, useId, useState, type FormEvent } from 'react'
import { errorMessage, type NewInvite } from '../../api/client'
import { DEFAULT_INVITE_MAX_USES, MAX_INVITE_USES, type Invite, type User } from '../../api/types'
import { personName } from '../names'
import { type AdminApi, when } from './adminApi'
import { ConfirmDialog } from './ConfirmDialog'
import { CopyField } from './CopyField'

type Uses = 'many' | 'one' | 'custom'

/** How long a new link works: the choices, in hours (the server's default is 7 days). */
export const EXPIRY_CHOICES = [
  { hours: 24, label: '1 day' },
  { hours: 168, label: '7 days' },
  { hours: 720, label: '30 days' },
] as const

interface InvitesSectionProps {
  api: AdminApi
  /** To name who made each invite. */
  users: Readonly<Record<string, User>>
}

/** Make an invite link (how many people, how long), and the active ones with Revoke. */
export function InvitesSection({ api, users }: InvitesSectionProps) {
  const ids = useId()
  const [uses, setUses] = useState<Uses>('many')
  const [custom, setCustom] = useState('10')
  const [hours, setHours] = useState<number>(168)
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<NewInvite | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [invites, setInvites] = useState<Invite[] | null>(null)
  const [listError, setListError] = useState<string | null>(null)
  const [status, setStatus] = useState('')
  const [revoking, setRevoking] = useState<Invite | null>(null)

  const [version, setVersion] = useState(0)
  const refresh = () => setVersion((n) => n + 1)

  useEffect(() => {
    let current = true
    api.listInvites().then(
      (list) => {
        if (!current) return
        setInvites(list)
        setListError(null)
      },
      (err: unknown) => {
        if (current) setListError(errorMessage(err))
      },
    )
    return () => {
      current = false
    }
  }, [api, version])

  const customUses = Number(custom)
  const customValid = Number.isInteger(customUses) && customUses >= 1 && customUses <= MAX_INVITE_USES

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (uses === 'custom' && !customValid) return
    setCreating(true)
    setError(null)
    try {
      const maxUses = uses === 'many' ? DEFAULT_INVITE_MAX_USES : uses === 'one' ? 1 : customUses
      setCreated(await api.createInvite({ maxUses, expiresInHours: hours }))
      refresh()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setCreating(false)
    }
  }

  /** After the confirmation; a refusal stays in the dialog (ConfirmDialog). */
  async function revoke(invite: Invite) {
    await api.revokeInvite(invite.id)
    setRevoking(null)
    setStatus(`Invite ${invite.hint ?? ''}… revoked.`)
    if (created?.id === invite.id) setCreated(null)
    refresh()
  }

  return (
    <section className="admin-section" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Invites</h2>
      <form className="admin-card form" aria-labelledby={`${ids}-new`} onSubmit={(event) => void create(event)}>
        <h3 id={`${ids}-new`}>New invite link</h3>
        <fieldset className="admin-choices">
          <legend>Uses</legend>
          <label className="check">
            <input type="radio" name={`${ids}-uses`} checked={uses === 'many'} onChange={() => setUses('many')} />
            Up to {DEFAULT_INVITE_MAX_USES} people
          </label>
          <label className="check">
            <input type="radio" name={`${ids}-uses`} checked={uses === 'one'} onChange={() => setUses('one')} />
            One person
          </label>
          <label className="check">
            <input type="radio" name={`${ids}-uses`} checked={uses === 'custom'} onChange={() => setUses('custom')} />
            Custom
          </label>
          {uses === 'custom' && (
            <div className="field admin-custom">
              <label htmlFor={`${ids}-count`}>Number of people</label>
              <input
                id={`${ids}-count`}
                type="number"
                min={1}
                max={MAX_INVITE_USES}
                required
                aria-invalid={!customValid || undefined}
                aria-describedby={`${ids}-count-hint`}
                value={custom}
                onChange={(event) => setCustom(event.target.value)}
              />
              <small id={`${ids}-count-hint`} className="hint">
                1 to {MAX_INVITE_USES}.
              </small>
            </div>
          )}
        </fieldset>
        <div className="field">
          <label htmlFor={`${ids}-expiry`}>Expires after</label>
          <select id={`${ids}-expiry`} value={hours} onChange={(event) => setHours(Number(event.target.value))}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.hours} value={c.hours}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        {error && (
          <p className="error" role="alert">
            Could not create an invite: {error}
          </p>
        )}
        <button type="submit" className="admin-submit" disabled={creating || (uses === 'custom' && !customValid)}>
          Create link
        </button>
        {created && (
          <div className="admin-created">
            <p>
              {created.maxUses === 1
                ? 'One person can create an account with this link'
                : `Up to ${created.maxUses} people can create an account with this link`}{' '}
              until {when(created.expiresAt)}.
            </p>
            <CopyField label="Invite link" value={created.url} />
          </div>
        )}
      </form>

      <h3 id={`${ids}-active`}>Active invites</h3>
      <p className="muted" role="status">
        {status}
      </p>
      {listError && (
        <p className="error" role="alert">
          Could not load the invites: {listError}
        </p>
      )}
      {invites?.length === 0 && <p className="muted">No active invites.</p>}
      {invites && invites.length > 0 && (
        <ul className="invite-list" aria-labelledby={`${ids}-active`}>
          {invites.map((invite) => {
            const left = invite.maxUses - invite.uses
            return (
              <li key={invite.id} className="invite-row">
                <span className="invite-hint">
                  <code>{invite.hint}…</code>
                </span>
                <span>
                  {left} of {invite.maxUses} {invite.maxUses === 1 ? 'use' : 'uses'} left
                </span>
                <span className="muted">expires {when(invite.expiresAt)}</span>
                <span className="muted">
                  by <bdi>{personName(users[invite.createdBy])}</bdi>
                </span>
                <button
                  type="button"
                  className="secondary small"
                  aria-label={`Revoke invite ${invite.hint ?? ''}…`}
                  onClick={() => setRevoking(invite)}
                >
                  Revoke
                </button>
              </li>
            )
          })}
        </ul>
      )}
      {revoking && (
        <ConfirmDialog
          title={`Revoke invite ${revoking.hint ?? ''}…?`}
          confirmLabel="Revoke"
          danger
          onClose={() => setRevoking(null)}
          onConfirm={() => revoke(revoking)}
        >
          <p>
            The link stops working at once: nobody else can join with it ({revoking.maxUses - revoking.uses} of{' '}
            {revoking.maxUses} {revoking.maxUses === 1 ? 'use' : 'uses'} left). Accounts made with it stay.
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}
