import { useId, useState, type FormEvent } from 'react'
import { ApiRequestError, errorMessage } from '../api/client'
import { MAX_CHAT_NAME_LEN, MAX_TOPIC_LEN, type Chat, type ChatChange, type User } from '../api/types'
import type { Member } from '../state/types'
import { chatTitle, mayManage } from './chatNames'
import { Modal } from './Modal'
import { personName } from './names'

interface ChatSettingsDialogProps {
  chat: Chat
  me: User
  users: Record<string, Member>
  updateChat: (change: ChatChange) => Promise<unknown>
  removeMember: (userId: string) => Promise<void>
  leaveChat: () => Promise<void>
  onClose: () => void
}

/**
 * A chat's settings. Owners and admins rename it, set its topic, archive or unarchive it and
 * remove members (a DM's topic: any member); everyone may leave, after a confirmation. An
 * archived chat takes only unarchiving.
 */
export function ChatSettingsDialog({ chat, me, users, updateChat, removeMember, leaveChat, onClose }: ChatSettingsDialogProps) {
  const manage = mayManage(chat, me)
  const editTopic = !chat.archived && (manage || chat.kind === 'dm')
  const [name, setName] = useState(chat.name)
  const [topic, setTopic] = useState(chat.topic)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [nameError, setNameError] = useState<string | null>(null)
  const [notice, setNotice] = useState('')
  const [confirmLeave, setConfirmLeave] = useState(false)
  const idPrefix = useId()
  const title = chatTitle(chat, users, me.id)

  async function run(action: () => Promise<unknown>, done?: string) {
    setBusy(true)
    setError(null)
    setNameError(null)
    try {
      await action()
      if (done) setNotice(done)
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 409 && !chat.archived) setNameError(errorMessage(err))
      else setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const change: ChatChange = {}
    if (manage && chat.kind !== 'dm' && name.trim() !== chat.name) change.name = name.trim()
    if (topic.trim() !== chat.topic) change.topic = topic.trim()
    if (Object.keys(change).length === 0) {
      setNotice('Nothing changed.')
      return
    }
    void run(() => updateChat(change), 'Saved.')
  }

  const dm = chat.kind === 'dm'
  if (confirmLeave) {
    return (
      <Modal title={dm ? 'Hide this conversation?' : `Leave ${title}?`} onClose={onClose}>
        <p>
          {chat.kind === 'channel'
            ? 'It leaves your list. You can join it again from Browse channels.'
            : chat.kind === 'private'
              ? 'It leaves your list, and only a member can add you again.'
              : 'It leaves your list, on all your devices, until someone writes in it again. Its messages stay.'}
        </p>
        {error && (
          <p className="error" role="alert">
            {dm ? 'Could not hide it' : 'Could not leave'}: {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={() => setConfirmLeave(false)} disabled={busy} autoFocus>
            Cancel
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => void run(leaveChat)}>
            {dm ? (busy ? 'Hiding…' : 'Hide') : busy ? 'Leaving…' : 'Leave'}
          </button>
        </div>
      </Modal>
    )
  }

  const members = chat.memberIds
    .map((id) => users[id] ?? { id, username: id, displayName: '', role: 'member' as const, createdAt: 0, online: false })
    .sort((a, b) => personName(a).localeCompare(personName(b)))
  const nameErrorId = `${idPrefix}-name-error`
  return (
    <Modal title="Chat settings" onClose={onClose}>
      <p className="hint">
        <bdi>{title}</bdi>
        {chat.kind === 'private' ? ' · private' : chat.kind === 'channel' ? ' · channel' : ' · direct message'}
        {chat.archived ? ' · archived' : ''}
      </p>
      {editTopic ? (
        <form className="form" onSubmit={save}>
          {manage && chat.kind !== 'dm' && (
            <div className="field">
              <label htmlFor={`${idPrefix}-name`}>Name</label>
              <input
                id={`${idPrefix}-name`}
                required
                maxLength={MAX_CHAT_NAME_LEN}
                value={name}
                aria-invalid={nameError ? true : undefined}
                aria-describedby={nameError ? nameErrorId : undefined}
                onChange={(event) => {
                  setName(event.target.value)
                  setNameError(null)
                }}
              />
              {nameError && (
                <span id={nameErrorId} className="error field-error" role="alert">
                  {nameError}
                </span>
              )}
            </div>
          )}
          <label className="field">
            <span>Topic</span>
            <input maxLength={MAX_TOPIC_LEN} value={topic} onChange={(event) => setTopic(event.target.value)} />
          </label>
          <div className="dialog-actions">
            <button type="submit" disabled={busy || name.trim() === ''}>
              Save
            </button>
          </div>
        </form>
      ) : (
        chat.topic && (
          <p>
            Topic: <span dir="auto">{chat.topic}</span>
          </p>
        )
      )}
      {manage && (
        <section className="settings-section" aria-labelledby={`${idPrefix}-archive`}>
          <h3 id={`${idPrefix}-archive`}>{chat.archived ? 'Archived' : 'Archive'}</h3>
          <p className="hint">
            {chat.archived
              ? 'Nobody can post in it. Unarchive it to let members write again.'
              : 'Archiving makes the chat read-only for everyone; it can be unarchived.'}
          </p>
          <div>
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() =>
                void run(
                  () => updateChat({ archived: !chat.archived }),
                  chat.archived ? 'Unarchived.' : 'Archived.',
                )
              }
            >
              {chat.archived ? 'Unarchive chat' : 'Archive chat'}
            </button>
          </div>
        </section>
      )}
      {chat.kind !== 'dm' && (
        <section className="settings-section" aria-labelledby={`${idPrefix}-members`}>
          <h3 id={`${idPrefix}-members`}>Members ({members.length})</h3>
          <ul className="settings-members">
            {members.map((member) => (
              <li key={member.id}>
                <span className="member-name">
                  <bdi>{personName(member)}</bdi>
                  {member.id === me.id && <span className="hint"> (you)</span>}
                  {chat.ownerIds.includes(member.id) && <span className="hint"> · owner</span>}
                </span>
                {manage && member.id !== me.id && (
                  <button
                    type="button"
                    className="secondary small"
                    aria-label={`Remove ${personName(member)}`}
                    disabled={busy}
                    onClick={() => void run(() => removeMember(member.id), `${personName(member)} removed.`)}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {notice}
      </p>
      <div className="dialog-actions">
        {/* A DM is not left but hidden (POST …/leave hides it until its next message). */}
        <button type="button" className="danger" onClick={() => setConfirmLeave(true)}>
          {dm ? 'Hide conversation' : 'Leave chat'}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  )
}
