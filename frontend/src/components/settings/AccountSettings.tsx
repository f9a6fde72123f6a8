// The account page (/settings/account): profile (display name, status line, avatar), password
// and the signed-in devices. Each section saves on its own; the answer's user goes into the
// store at once (USER_UPDATED follows and changes nothing more).
import { useId, useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/client'
import { MAX_STATUS_TEXT_LEN, type ProfilePatch, type Session, type User } from '../../api/types'
import { EmojiPicker } from '../EmojiPicker'
import { useStatusLine } from '../useStatusLine'
import { STATUS_EXPIRIES, statusExpiresAt, type AvatarTransport, type StatusExpiry } from './accountModel'
import { AvatarSection } from './AvatarSection'
import { PasswordSection } from './PasswordSection'
import { SessionsSection } from './SessionsSection'
import './settings.css'
import { SettingsTabs } from './SettingsTabs'

/** The server's limit on a display name (backend.MaxDisplayNameLen), in characters. */
const MAX_DISPLAY_NAME_LEN = 64

export interface AccountApi {
  updateProfile(patch: ProfilePatch): Promise<User>
  deleteAvatar(): Promise<User>
  changePassword(currentPassword: string, newPassword: string): Promise<void>
  listSessions(): Promise<{ sessions: Session[]; total: number }>
  endSession(sessionId: string): Promise<void>
  revokeOtherSessions(): Promise<number>
}

export interface AccountSettingsProps {
  api: AccountApi
  me: User
  /** Puts the server's answer (the user's new profile) into the store. */
  onUser: (user: User) => void
  /** The avatar upload; default XMLHttpRequest to PUT /api/me/avatar. */
  uploadAvatar?: AvatarTransport
  now?: () => number
}

export function AccountSettings({ api, me, onUser, uploadAvatar, now = Date.now }: AccountSettingsProps) {
  const headingId = useId()
  return (
    <section className="settings account-settings" aria-labelledby={headingId}>
      <SettingsTabs current="account" headingId={headingId} title="Account" />
      <div className="settings-body">
        <ProfileSection api={api} me={me} onUser={onUser} />
        <StatusSection api={api} me={me} onUser={onUser} now={now} />
        <AvatarSection api={api} me={me} onUser={onUser} upload={uploadAvatar} />
        <PasswordSection api={api} />
        <SessionsSection api={api} now={now} />
      </div>
    </section>
  )
}

interface SectionProps {
  api: AccountApi
  me: User
  onUser: (user: User) => void
}

type Saving = { state: 'idle' } | { state: 'saving' } | { state: 'saved' } | { state: 'failed'; message: string }

function ProfileSection({ api, me, onUser }: SectionProps) {
  const [name, setName] = useState(me.displayName)
  const [saving, setSaving] = useState<Saving>({ state: 'idle' })
  const inputId = useId()
  const errorId = useId()
  const trimmed = name.trim()
  const problem = trimmed === '' ? 'Enter a display name.' : [...trimmed].length > MAX_DISPLAY_NAME_LEN ? `At most ${MAX_DISPLAY_NAME_LEN} characters.` : null

  async function save(event: FormEvent) {
    event.preventDefault()
    if (problem) {
      setSaving({ state: 'failed', message: problem })
      return
    }
    setSaving({ state: 'saving' })
    try {
      const user = await api.updateProfile({ displayName: trimmed })
      onUser(user)
      setName(user.displayName)
      setSaving({ state: 'saved' })
    } catch (err) {
      setSaving({ state: 'failed', message: errorMessage(err) })
    }
  }

  return (
    <form className="settings-group" aria-labelledby={`${inputId}-h`} onSubmit={(e) => void save(e)} noValidate>
      <h2 id={`${inputId}-h`}>Profile</h2>
      <p className="hint">
        Your username is <bdi>@{me.username}</bdi>; it does not change.
      </p>
      <label htmlFor={inputId}>Display name</label>
      <div className="inline-field">
        <input
          id={inputId}
          value={name}
          maxLength={MAX_DISPLAY_NAME_LEN * 2}
          autoComplete="name"
          aria-invalid={saving.state === 'failed' ? true : undefined}
          aria-describedby={saving.state === 'failed' ? errorId : undefined}
          onChange={(e) => {
            setName(e.target.value)
            setSaving({ state: 'idle' })
          }}
        />
        <button type="submit" disabled={saving.state === 'saving' || trimmed === me.displayName}>
          Save name
        </button>
      </div>
      <SaveLine saving={saving} errorId={errorId} what="name" />
    </form>
  )
}

function StatusSection({ api, me, onUser, now }: SectionProps & { now: () => number }) {
  const current = useStatusLine(me)
  const [text, setText] = useState(current?.text ?? '')
  const [emoji, setEmoji] = useState(current?.emoji ?? '')
  const [expiry, setExpiry] = useState<StatusExpiry>('never')
  const [picking, setPicking] = useState(false)
  const [saving, setSaving] = useState<Saving>({ state: 'idle' })
  const textId = useId()
  const expiryId = useId()
  const errorId = useId()
  const headingId = useId()
  const tooLong = [...text.trim()].length > MAX_STATUS_TEXT_LEN

  async function send(patch: ProfilePatch) {
    setSaving({ state: 'saving' })
    try {
      const user = await api.updateProfile(patch)
      onUser(user)
      setText(user.statusText ?? '')
      setEmoji(user.statusEmoji ?? '')
      setSaving({ state: 'saved' })
    } catch (err) {
      setSaving({ state: 'failed', message: errorMessage(err) })
    }
  }

  function save(event: FormEvent) {
    event.preventDefault()
    if (tooLong) {
      setSaving({ state: 'failed', message: `At most ${MAX_STATUS_TEXT_LEN} characters.` })
      return
    }
    const clearing = text.trim() === '' && emoji === ''
    void send({
      statusText: text.trim(),
      statusEmoji: emoji,
      statusExpiresAt: clearing ? null : statusExpiresAt(expiry, now()),
    })
  }

  return (
    <form className="settings-group" aria-labelledby={headingId} onSubmit={save} noValidate>
      <h2 id={headingId}>Status</h2>
      <p className="hint" aria-live="polite">
        {current
          ? `Now: ${[current.emoji, current.text].filter(Boolean).join(' ')}${me.statusExpiresAt ? `, until ${new Date(me.statusExpiresAt).toLocaleString([], { weekday: 'short', hour: 'numeric', minute: '2-digit' })}` : ''}`
          : 'No status set.'}
      </p>
      <label htmlFor={textId}>What are you up to?</label>
      <div className="inline-field status-field">
        <button
          type="button"
          className="secondary status-emoji-button"
          aria-label={emoji ? `Status emoji ${emoji}, change` : 'Choose a status emoji'}
          aria-expanded={picking}
          onClick={() => setPicking((p) => !p)}
        >
          <span aria-hidden="true">{emoji || '🙂'}</span>
        </button>
        <input
          id={textId}
          value={text}
          placeholder="In a meeting"
          aria-invalid={tooLong || undefined}
          aria-describedby={saving.state === 'failed' ? errorId : undefined}
          onChange={(e) => {
            setText(e.target.value)
            setSaving({ state: 'idle' })
          }}
        />
      </div>
      {picking && (
        <div className="emoji-popover status-emoji-picker">
          <EmojiPicker
            label="Choose a status emoji"
            onPick={(picked) => {
              setEmoji(picked)
              setPicking(false)
            }}
            onClose={() => setPicking(false)}
          />
        </div>
      )}
      <div className="inline-field">
        <label htmlFor={expiryId}>Clear after</label>
        <select id={expiryId} value={expiry} onChange={(e) => setExpiry(e.target.value as StatusExpiry)}>
          {STATUS_EXPIRIES.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      <div className="settings-buttons">
        <button type="submit" disabled={saving.state === 'saving'}>
          Save status
        </button>
        <button
          type="button"
          className="secondary"
          disabled={saving.state === 'saving' || (!current && text === '' && emoji === '')}
          onClick={() => {
            setText('')
            setEmoji('')
            void send({ statusText: '', statusEmoji: '', statusExpiresAt: null })
          }}
        >
          Clear status
        </button>
      </div>
      <SaveLine saving={saving} errorId={errorId} what="status" />
    </form>
  )
}

export function SaveLine({ saving, errorId, what }: { saving: Saving; errorId: string; what: string }) {
  if (saving.state === 'failed') {
    return (
      <p id={errorId} className="error" role="alert">
        Could not save the {what}: {saving.message}
      </p>
    )
  }
  return (
    <p className="settings-state" role="status">
      {saving.state === 'saving' ? 'Saving…' : saving.state === 'saved' ? 'Saved' : ''}
    </p>
  )
}
