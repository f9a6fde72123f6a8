import { useCallback, useEffect, useId, useState, type FormEvent } from 'react'
import { flushSync } from 'react-dom'
import { errorMessage, type PasswordResetLink } from '../../api/client'
import { MAX_AVATAR_TEXT_LEN, MAX_AVATAR_URL_LEN, MAX_DISPLAY_NAME_LEN, type Account, type User } from '../../api/types'
import type { EventStream } from '../../stream/types'
import { Avatar } from '../Avatar'
import { FormActions } from '../FormActions'
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

/** The open dialog. from: what had focus when it (or the first of a chain: Add a bot → its
 * token, Rotate token… → the new one) opened. */
type Dialog = (
  | { kind: 'deactivate' | 'reactivate' | 'revoke-tokens' | 'delete-bot' | 'rotate-token' | 'rename' | 'avatar'; account: Account }
  | { kind: 'reset'; account: Account; link: PasswordResetLink | null; error: string | null }
  /** A token shown once: a new bot's (created) or a rotated one. */
  | { kind: 'token'; account: User; token: string; created: boolean }
  | { kind: 'add-bot' }
) & { from?: Element | null }

interface PeopleSectionProps {
  api: AdminApi
  /** USER_UPDATED and presence keep the list current; RESYNC reloads it. */
  stream: Pick<EventStream, 'onEvent'>
  me: User
}

/**
 * Every account (people, bots, deactivated ones) with search and paging, and what an admin does
 * to each through its actions menu: deactivate or reactivate (confirmed), change the role, make
 * a password-reset link; add a bot (its token shown once); for bots rename, set the avatar,
 * rotate the token, revoke the tokens, delete.
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
  const open = (next: Dialog) => setDialog({ ...next, from: document.activeElement })
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
    open({ kind: 'reset', account, link: null, error: null })
    try {
      const link = await api.createPasswordReset(account.id)
      setDialog((d) => (d?.kind === 'reset' && d.account.id === account.id ? { ...d, link } : d))
    } catch (err) {
      const error = errorMessage(err)
      setDialog((d) => (d?.kind === 'reset' && d.account.id === account.id ? { ...d, error } : d))
    }
  }

  function entries(account: Account): MenuEntry[] {
    const openFor = (kind: Exclude<Dialog['kind'], 'reset' | 'token' | 'add-bot'>) => () => open({ kind, account })
    if (account.deactivated) {
      return [{ key: 'reactivate', label: 'Reactivate…', onSelect: openFor('reactivate') }]
    }
    if (account.kind === 'bot') {
      return [
        { key: 'rename', label: 'Rename…', onSelect: openFor('rename') },
        { key: 'avatar', label: 'Set avatar…', onSelect: openFor('avatar') },
        { key: 'rotate', label: 'Rotate token…', onSelect: openFor('rotate-token') },
        { key: 'revoke', label: 'Revoke tokens…', onSelect: openFor('revoke-tokens') },
        { key: 'delete', label: 'Delete bot…', danger: true, onSelect: openFor('delete-bot') },
      ]
    }
    const list: MenuEntry[] = [
      account.role === 'admin'
        ? { key: 'role', label: 'Remove admin', onSelect: () => void changeRole(account, 'member') }
        : { key: 'role', label: 'Make admin', onSelect: () => void changeRole(account, 'admin') },
      { key: 'reset', label: 'Reset password…', onSelect: () => void makeResetLink(account) },
    ]
    if (account.id !== me.id) {
      list.push({ key: 'deactivate', label: 'Deactivate…', danger: true, onSelect: openFor('deactivate') })
    }
    return list
  }

  const close = () => setDialog(null)
  /** Ends a chain of dialogs: each Modal gives focus back to its own opener, but the last one's
   * was a button of the dialog before it, gone by now. Once the dialog has closed (and the page
   * is no longer inert), focus goes back to where the chain started. */
  const closeChain = () => {
    const from = dialog?.from
    flushSync(() => setDialog(null))
    if (from instanceof HTMLElement && from.isConnected && (document.activeElement === document.body || document.activeElement === null)) {
      from.focus()
    }
  }
  const done = (text: string) => {
    setDialog(null)
    setOutcome({ text, error: false })
  }

  return (
    <section className="admin-section" aria-labelledby={`${searchId}-heading`}>
      <h2 id={`${searchId}-heading`}>People</h2>
      <div className="admin-toolbar">
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
        <button type="button" className="secondary" onClick={() => open({ kind: 'add-bot' })}>
          Add bot
        </button>
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
            setDialog({ kind: 'token', account: dialog.account, token, created: false, from: dialog.from })
          }}
        >
          <p>A new token is made and shown once; every other token of the bot stops working at once.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'token' && (
        <Modal
          title={dialog.created ? `${personName(dialog.account)} is added` : `New token for ${personName(dialog.account)}`}
          onClose={closeChain}
        >
          <div className="form">
            <p>
              {dialog.created && (
                <>
                  The bot signs in as @{dialog.account.username} with this token (a bearer token; bots have no password).{' '}
                </>
              )}
              This is the only time the token is shown: copy it into the bot&apos;s configuration now.
            </p>
            <CopyField label="Bot token" value={dialog.token} />
            <div className="dialog-actions">
              <button type="button" onClick={closeChain}>
                Done
              </button>
            </div>
          </div>
        </Modal>
      )}
      {dialog?.kind === 'add-bot' && (
        <AddBotDialog
          onClose={close}
          add={async (name, avatar) => {
            const { bot, token } = await api.createBot(name, avatar || undefined)
            setReload((n) => n + 1)
            setOutcome({ text: `${personName(bot)} was added.`, error: false })
            setDialog({ kind: 'token', account: bot, token, created: true, from: dialog.from })
          }}
        />
      )}
      {dialog?.kind === 'avatar' && (
        <BotAvatarDialog
          bot={dialog.account}
          onClose={close}
          save={async (avatar) => {
            updated(await api.updateBot(dialog.account.id, { avatar }))
            done(avatar ? `${personName(dialog.account)}'s avatar is saved.` : `${personName(dialog.account)}'s avatar is removed.`)
          }}
        />
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
        <span className="person-display">
          {account.kind === 'bot' && <Avatar user={account} size={18} />}
          <bdi>{name}</bdi>
        </span>
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
  const { busy, error, submit } = useSubmit(() => rename(name.trim()))
  return (
    <Modal title={`Rename ${personName(bot)}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={id}>Bot name</label>
          <input id={id} required maxLength={MAX_DISPLAY_NAME_LEN} value={name} onChange={(event) => setName(event.target.value)} />
        </div>
        <FormActions error={error} onCancel={onClose} submit="Rename" disabled={busy || name.trim() === ''} />
      </form>
    </Modal>
  )
}

/** The avatar field of Add bot and Set avatar, with the server's rules (backend.CheckAvatar)
 * said beside it and a preview of what people will see. */
function BotAvatarField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const id = useId()
  const trimmed = value.trim()
  return (
    <div className="field">
      <label htmlFor={id}>
        Avatar <span className="hint">(optional)</span>
      </label>
      <div className="bot-avatar-row">
        <input
          id={id}
          maxLength={MAX_AVATAR_URL_LEN}
          placeholder="🤖 or https://…"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-hint`}
          value={value}
          onChange={(event) => onChange(event.target.value)}
        />
        {trimmed && (
          <span className="bot-avatar-preview" title="Preview">
            <Avatar user={{ id: 'preview', username: '', displayName: '', kind: 'bot', avatar: trimmed }} size={32} />
          </span>
        )}
      </div>
      <small id={`${id}-hint`} className="hint">
        An emoji or a short text (up to {MAX_AVATAR_TEXT_LEN} characters), or the https address of a picture.
      </small>
    </div>
  )
}

/** A form dialog that sends once and shows the server's refusal in place. */
function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    action().catch((err: unknown) => {
      setError(errorMessage(err))
      setBusy(false)
    })
  }
  return { busy, error, submit }
}

function AddBotDialog({ add, onClose }: { add: (name: string, avatar: string) => Promise<void>; onClose: () => void }) {
  const id = useId()
  const [name, setName] = useState('')
  const [avatar, setAvatar] = useState('')
  const { busy, error, submit } = useSubmit(() => add(name.trim(), avatar.trim()))
  return (
    <Modal title="Add a bot" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={id}>Bot name</label>
          <input
            id={id}
            required
            maxLength={MAX_DISPLAY_NAME_LEN}
            placeholder="e.g. Build Bot"
            aria-describedby={`${id}-hint`}
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
          <small id={`${id}-hint`} className="hint">
            Its username is made from the name (Build Bot: @build-bot).
          </small>
        </div>
        <BotAvatarField value={avatar} onChange={setAvatar} />
        <FormActions error={error} onCancel={onClose} submit="Add bot" disabled={busy || name.trim() === ''} />
      </form>
    </Modal>
  )
}

function BotAvatarDialog({
  bot,
  save,
  onClose,
}: {
  bot: Account
  save: (avatar: string) => Promise<void>
  onClose: () => void
}) {
  const [avatar, setAvatar] = useState(bot.avatar ?? '')
  const { busy, error, submit } = useSubmit(() => save(avatar.trim()))
  return (
    <Modal title={`Avatar for ${personName(bot)}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <BotAvatarField value={avatar} onChange={setAvatar} />
        <p className="hint">Leave it empty to remove the avatar.</p>
        <FormActions error={error} onCancel={onClose} submit="Save avatar" disabled={busy || avatar.trim() === (bot.avatar ?? '')} />
      </form>
    </Modal>
  )
}
