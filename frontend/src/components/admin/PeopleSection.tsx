import { useCallback, useEffect, useId, useState } from 'react'
import { errorMessage, type PasswordResetLink } from '../../api/client'
import type { Account, User } from '../../api/types'
import type { EventStream } from '../../stream/types'
import { MessageMenu, type MenuEntry } from '../MessageMenu'
import { Modal } from '../Modal'
import { personName } from '../names'
import { type AdminApi, when } from './adminApi'
import { ConfirmDialog } from './ConfirmDialog'
import { CopyField } from './CopyField'

/** People per page of the list. */
export const PEOPLE_PAGE = 50
/** The search waits this long after the last keystroke (ms). */
export const SEARCH_DEBOUNCE_MS = 300

type Dialog =
  | { kind: 'deactivate' | 'reactivate' | 'revoke-tokens' | 'delete-bot' | 'rotate-token' | 'rename'; account: Account }
  | { kind: 'reset'; account: Account; link: PasswordResetLink | null; error: string | null }
  | { kind: 'token'; account: Account; token: string }

interface PeopleSectionProps {
  api: AdminApi
  /** USER_UPDATED and presence keep the list current; RESYNC reloads it. */
  stream: Pick<EventStream, 'onEvent'>
  me: User
}

/**
 * Every account (people, bots, deactivated ones) with search and paging, and what an admin does
 * to each through its actions menu: deactivate or reactivate (confirmed), change the role, make
 * a password-reset link; for bots rename, rotate the token, revoke the tokens, delete.
 */
export function PeopleSection({ api, stream, me }: PeopleSectionProps) {
  const searchId = useId()
  const [query, setQuery] = useState('')
  const [q, setQ] = useState('')
  const [rows, setRows] = useState<Account[]>([])
  const [hasMore, setHasMore] = useState(false)
  /** Which search the list shows ("reload|q"): while it is not the current one, it loads. */
  const [shown, setShown] = useState<string | null>(null)
  const [loadingMore, setLoadingMore] = useState(false)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [reload, setReload] = useState(0)
  const [dialog, setDialog] = useState<Dialog | null>(null)
  /** What the last action did, or why it failed. */
  const [outcome, setOutcome] = useState<{ text: string; error: boolean } | null>(null)

  useEffect(() => {
    const timer = setTimeout(() => setQ(query.trim()), SEARCH_DEBOUNCE_MS)
    return () => clearTimeout(timer)
  }, [query])

  const key = `${reload}|${q}`
  const loading = shown !== key || loadingMore
  useEffect(() => {
    let current = true
    api.listAccounts({ q, limit: PEOPLE_PAGE }).then(
      (page) => {
        if (!current) return
        setRows(page.users)
        setHasMore(page.hasMore)
        setLoadError(null)
        setShown(`${reload}|${q}`)
      },
      (err: unknown) => {
        if (!current) return
        setLoadError(errorMessage(err))
        setShown(`${reload}|${q}`)
      },
    )
    return () => {
      current = false
    }
  }, [api, q, reload])

  async function loadMore() {
    const last = rows[rows.length - 1]
    if (!last) return
    setLoadingMore(true)
    try {
      const page = await api.listAccounts({ q, after: last.id, limit: PEOPLE_PAGE })
      setRows((held) => [...held, ...page.users.filter((u) => !held.some((h) => h.id === u.id))])
      setHasMore(page.hasMore)
      setLoadError(null)
    } catch (err) {
      setLoadError(errorMessage(err))
    } finally {
      setLoadingMore(false)
    }
  }

  /** The account's new state from an answer or USER_UPDATED; its presence stays. */
  const updated = useCallback((user: User) => {
    setRows((held) =>
      held.map((row) =>
        row.id === user.id
          ? { ...user, online: row.online, ...(row.lastSeenAt !== undefined ? { lastSeenAt: row.lastSeenAt } : {}) }
          : row,
      ),
    )
  }, [])

  useEffect(
    () =>
      stream.onEvent((event) => {
        if (event.type === 'USER_UPDATED' && event.user) updated(event.user)
        else if (event.type === 'AGENT_STATUS_CHANGED' && event.agent && event.status) {
          const { agent, status } = event
          setRows((held) =>
            held.map((row) =>
              row.id === agent.id
                ? { ...row, online: status !== 'offline', ...(status === 'offline' ? { lastSeenAt: event.timestamp } : {}) }
                : row,
            ),
          )
        } else if (event.type === 'RESYNC') setReload((n) => n + 1)
      }),
    [stream, updated],
  )

  async function changeRole(account: Account, role: 'admin' | 'member') {
    try {
      updated(await api.setRole(account.id, role))
      setOutcome({
        text: role === 'admin' ? `${personName(account)} is an admin now.` : `${personName(account)} is no longer an admin.`,
        error: false,
      })
    } catch (err) {
      setOutcome({ text: `Could not change ${personName(account)}'s role: ${errorMessage(err)}`, error: true })
    }
  }

  async function makeResetLink(account: Account) {
    setDialog({ kind: 'reset', account, link: null, error: null })
    try {
      const link = await api.createPasswordReset(account.id)
      setDialog((d) => (d?.kind === 'reset' && d.account.id === account.id ? { ...d, link } : d))
    } catch (err) {
      const error = errorMessage(err)
      setDialog((d) => (d?.kind === 'reset' && d.account.id === account.id ? { ...d, error } : d))
    }
  }

  function entries(account: Account): MenuEntry[] {
    const open = (kind: Exclude<Dialog['kind'], 'reset' | 'token'>) => () => setDialog({ kind, account })
    if (account.deactivated) {
      return [{ key: 'reactivate', label: 'Reactivate…', onSelect: open('reactivate') }]
    }
    if (account.kind === 'bot') {
      return [
        { key: 'rename', label: 'Rename…', onSelect: open('rename') },
        { key: 'rotate', label: 'Rotate token…', onSelect: open('rotate-token') },
        { key: 'revoke', label: 'Revoke tokens…', onSelect: open('revoke-tokens') },
        { key: 'delete', label: 'Delete bot…', danger: true, onSelect: open('delete-bot') },
      ]
    }
    const list: MenuEntry[] = [
      account.role === 'admin'
        ? { key: 'role', label: 'Remove admin', onSelect: () => void changeRole(account, 'member') }
        : { key: 'role', label: 'Make admin', onSelect: () => void changeRole(account, 'admin') },
      { key: 'reset', label: 'Reset password…', onSelect: () => void makeResetLink(account) },
    ]
    if (account.id !== me.id) {
      list.push({ key: 'deactivate', label: 'Deactivate…', danger: true, onSelect: open('deactivate') })
    }
    return list
  }

  const close = () => setDialog(null)
  const done = (text: string) => {
    setDialog(null)
    setOutcome({ text, error: false })
  }

  return (
    <section className="admin-section" aria-labelledby={`${searchId}-heading`}>
      <h2 id={`${searchId}-heading`}>People</h2>
      <div className="admin-search">
        <label htmlFor={searchId}>Search people</label>
        <input
          id={searchId}
          type="search"
          placeholder="Name or username"
          autoComplete="off"
          spellCheck={false}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
      </div>
      <p className={outcome?.error ? 'error admin-outcome' : 'admin-outcome'} role={outcome?.error ? 'alert' : 'status'}>
        {outcome?.text}
      </p>
      {loadError && (
        <div className="admin-load-error">
          <p className="error" role="alert">
            Could not load people: {loadError}
          </p>
          <button type="button" className="secondary small" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {!loading && !loadError && rows.length === 0 && (
        <p className="muted">{q ? `Nobody matches “${q}”.` : 'No accounts yet.'}</p>
      )}
      <ul className="people-list" aria-label="People" aria-busy={loading || undefined}>
        {rows.map((account) => (
          <PersonRow key={account.id} account={account} me={me} entries={entries(account)} />
        ))}
      </ul>
      {hasMore && (
        <button type="button" className="secondary admin-more" disabled={loading} onClick={() => void loadMore()}>
          Load more people
        </button>
      )}
      {loading && rows.length === 0 && <p className="muted">Loading people…</p>}

      {dialog?.kind === 'deactivate' && (
        <ConfirmDialog
          title={`Deactivate ${personName(dialog.account)}?`}
          confirmLabel="Deactivate"
          danger
          onClose={close}
          onConfirm={async () => {
            updated(await api.setDeactivated(dialog.account.id, true))
            done(`${personName(dialog.account)} was deactivated.`)
          }}
        >
          <p>
            <bdi>{personName(dialog.account)}</bdi> (@{dialog.account.username}) is signed out everywhere at once and
            cannot sign in until an admin reactivates the account. Their messages stay.
          </p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'reactivate' && (
        <ConfirmDialog
          title={`Reactivate ${personName(dialog.account)}?`}
          confirmLabel="Reactivate"
          onClose={close}
          onConfirm={async () => {
            updated(await api.setDeactivated(dialog.account.id, false))
            done(`${personName(dialog.account)} was reactivated.`)
          }}
        >
          <p>
            {dialog.account.kind === 'bot'
              ? 'The bot needs a new token (Rotate token) to connect again.'
              : 'They can sign in again with their password. Their old sessions stay ended.'}
          </p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'reset' && <ResetLinkDialog dialog={dialog} onClose={close} />}
      {dialog?.kind === 'rename' && (
        <RenameBotDialog
          bot={dialog.account}
          onClose={close}
          rename={async (displayName) => {
            updated(await api.updateBot(dialog.account.id, { displayName }))
            done(`The bot is called ${displayName} now.`)
          }}
        />
      )}
      {dialog?.kind === 'rotate-token' && (
        <ConfirmDialog
          title={`Rotate ${personName(dialog.account)}'s token?`}
          confirmLabel="Rotate token"
          onClose={close}
          onConfirm={async () => {
            const { token } = await api.rotateBotToken(dialog.account.id)
            setDialog({ kind: 'token', account: dialog.account, token })
          }}
        >
          <p>A new token is made and shown once; every other token of the bot stops working at once.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'token' && (
        <Modal title={`New token for ${personName(dialog.account)}`} onClose={close}>
          <div className="form">
            <p>This is the only time the token is shown: copy it into the bot&apos;s configuration now.</p>
            <CopyField label="Bot token" value={dialog.token} />
            <div className="dialog-actions">
              <button type="button" onClick={close}>
                Done
              </button>
            </div>
          </div>
        </Modal>
      )}
      {dialog?.kind === 'revoke-tokens' && (
        <ConfirmDialog
          title={`Revoke ${personName(dialog.account)}'s tokens?`}
          confirmLabel="Revoke tokens"
          danger
          onClose={close}
          onConfirm={async () => {
            const { revoked } = await api.revokeBotTokens(dialog.account.id)
            done(`${revoked} token${revoked === 1 ? '' : 's'} of ${personName(dialog.account)} revoked.`)
          }}
        >
          <p>Every token of the bot stops working and its streams end. Rotate the token to connect it again.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'delete-bot' && (
        <ConfirmDialog
          title={`Delete ${personName(dialog.account)}?`}
          confirmLabel="Delete bot"
          danger
          onClose={close}
          onConfirm={async () => {
            await api.deleteBot(dialog.account.id)
            updated({ ...dialog.account, deactivated: true })
            done(`${personName(dialog.account)} was deleted.`)
          }}
        >
          <p>The bot&apos;s tokens and streams end and it cannot connect again. Its messages stay.</p>
        </ConfirmDialog>
      )}
    </section>
  )
}

function PersonRow({ account, me, entries }: { account: Account; me: User; entries: MenuEntry[] }) {
  const name = personName(account)
  return (
    <li className={account.deactivated ? 'person deactivated' : 'person'}>
      <div className="person-name">
        <bdi className="person-display">{name}</bdi>
        <span className="muted">
          @{account.username}
          {account.id === me.id ? ' (you)' : ''}
        </span>
      </div>
      <div className="person-tags">
        <span className={account.role === 'admin' ? 'tag tag-admin' : 'tag'}>{account.role === 'admin' ? 'Admin' : 'Member'}</span>
        {account.kind === 'bot' && <span className="tag">Bot</span>}
        {account.deactivated && <span className="tag tag-off">Deactivated</span>}
      </div>
      <div className="person-seen muted">{seen(account)}</div>
      <div className="person-actions">
        <MessageMenu label={`Actions for ${name}`} menuLabel={`Actions for ${name}`} entries={entries} />
      </div>
    </li>
  )
}

function seen(account: Account): string {
  if (account.online) return 'Online'
  if (account.lastSeenAt) return `Last seen ${when(account.lastSeenAt)}`
  return 'Not seen yet'
}

function ResetLinkDialog({
  dialog,
  onClose,
}: {
  dialog: Extract<Dialog, { kind: 'reset' }>
  onClose: () => void
}) {
  const name = personName(dialog.account)
  return (
    <Modal title={`Password reset link for ${name}`} onClose={onClose}>
      <div className="form">
        {dialog.error ? (
          <p className="error" role="alert">
            Could not make a reset link: {dialog.error}
          </p>
        ) : dialog.link ? (
          <>
            <p>
              Send this link to <bdi>{name}</bdi> privately. It sets a new password once, until{' '}
              {when(dialog.link.expiresAt)} (24 hours); a newer link replaces it.
            </p>
            <CopyField label="Reset link" value={dialog.link.link} />
          </>
        ) : (
          <p className="muted">Making a reset link…</p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Modal>
  )
}

function RenameBotDialog({
  bot,
  rename,
  onClose,
}: {
  bot: Account
  rename: (displayName: string) => Promise<void>
  onClose: () => void
}) {
  const id = useId()
  const [name, setName] = useState(bot.displayName)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  return (
    <Modal title={`Rename ${personName(bot)}`} onClose={onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault()
          setBusy(true)
          setError(null)
          rename(name.trim()).catch((err: unknown) => {
            setError(errorMessage(err))
            setBusy(false)
          })
        }}
      >
        <div className="field">
          <label htmlFor={id}>Bot name</label>
          <input id={id} required maxLength={64} value={name} onChange={(event) => setName(event.target.value)} />
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy || name.trim() === ''}>
            Rename
          </button>
        </div>
      </form>
    </Modal>
  )
}
