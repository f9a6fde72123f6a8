import { useEffect, useId, useState } from 'react'
import { errorMessage } from '../../api/client'
import type { AuditEntry, User } from '../../api/types'
import { personName } from '../names'
import { type AdminApi, when } from './adminApi'

/** What each audit action says, after the actor's name (backend.Audit*). */
const ACTIONS: Record<string, string> = {
  'invite.created': 'created an invite',
  'invite.revoked': 'revoked an invite',
  'user.deactivated': 'deactivated',
  'user.reactivated': 'reactivated',
  'user.role_changed': 'changed the role of',
  'user.password_reset_issued': 'made a password-reset link for',
  'user.password_reset_used': 'set a new password with a reset link',
  'bot.created': 'created the bot',
  'bot.updated': 'changed the bot',
  'bot.token_rotated': 'rotated the token of',
  'bot.tokens_revoked': 'revoked the tokens of',
  'bot.deleted': 'deleted the bot',
  'team.updated': 'changed the team settings',
}

const TEAM_FIELDS: Record<string, string> = {
  name: 'name',
  iconUrl: 'icon',
  channelCreation: 'who creates channels',
}

/** Targets that are accounts; an invite's id names nothing a reader knows. */
const USER_TARGETS = /^(user|bot)\./

interface AuditSectionProps {
  api: AdminApi
  /** To name actors and targets. */
  users: Readonly<Record<string, User>>
}

/** The audit log, newest first, a page at a time ("Load older"). */
export function AuditSection({ api, users }: AuditSectionProps) {
  const ids = useId()
  const [entries, setEntries] = useState<AuditEntry[]>([])
  const [hasMore, setHasMore] = useState(false)
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState<string | null>(null)
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    let current = true
    api.listAudit().then(
      (page) => {
        if (!current) return
        setEntries(page.entries)
        setHasMore(page.hasMore)
        setError(null)
        setLoading(false)
      },
      (err: unknown) => {
        if (!current) return
        setError(errorMessage(err))
        setLoading(false)
      },
    )
    return () => {
      current = false
    }
  }, [api, attempt])

  async function loadOlder() {
    const last = entries[entries.length - 1]
    if (!last) return
    setLoading(true)
    try {
      const page = await api.listAudit(last.id)
      setEntries((held) => [...held, ...page.entries])
      setHasMore(page.hasMore)
      setError(null)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setLoading(false)
    }
  }

  const name = (id: string) => (users[id] ? personName(users[id]) : 'someone no longer listed')

  return (
    <section className="admin-section" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Audit log</h2>
      <p className="muted">What admins did, newest first. The log keeps a year, at most 10,000 entries.</p>
      {error && (
        <div className="admin-load-error">
          <p className="error" role="alert">
            Could not load the audit log: {error}
          </p>
          <button type="button" className="secondary small" onClick={() => {
              setLoading(true)
              setAttempt((n) => n + 1)
            }}
          >
            Try again
          </button>
        </div>
      )}
      {!loading && !error && entries.length === 0 && <p className="muted">Nothing recorded yet.</p>}
      <ol className="audit-list" aria-label="Audit log entries" aria-busy={loading || undefined}>
        {entries.map((entry) => (
          <li key={entry.id} className="audit-entry">
            <span className="audit-what">
              <bdi className="audit-actor">{name(entry.actorId)}</bdi> {ACTIONS[entry.action] ?? entry.action}
              {entry.targetId && USER_TARGETS.test(entry.action) && entry.action !== 'user.password_reset_used' && (
                <>
                  {' '}
                  <bdi className="audit-target">{name(entry.targetId)}</bdi>
                </>
              )}
              {describeDetails(entry)}
            </span>
            <time className="muted audit-when" dateTime={new Date(entry.createdAt).toISOString()}>
              {when(entry.createdAt)}
            </time>
          </li>
        ))}
      </ol>
      {hasMore && (
        <button type="button" className="secondary admin-more" disabled={loading} onClick={() => void loadOlder()}>
          Load older
        </button>
      )}
      {loading && entries.length === 0 && <p className="muted">Loading the audit log…</p>}
    </section>
  )
}

/** The details worth reading: a role's change, an invite's uses, what team settings changed. */
function describeDetails(entry: AuditEntry): string {
  const d = entry.details ?? {}
  switch (entry.action) {
    case 'user.role_changed':
      return d.from && d.to ? `: ${d.from} → ${d.to}` : ''
    case 'invite.created':
      return d.maxUses ? ` for ${d.maxUses === '1' ? 'one person' : `up to ${d.maxUses} people`}` : ''
    case 'team.updated': {
      const parts = Object.entries(d).map(([field, value]) => {
        const label = TEAM_FIELDS[field] ?? field
        return value ? `${label} “${value}”` : `${label} cleared`
      })
      return parts.length > 0 ? `: ${parts.join(', ')}` : ''
    }
    default:
      return ''
  }
}
