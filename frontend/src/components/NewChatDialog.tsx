import { useId, useRef, useState, type FormEvent } from 'react'
import { ApiRequestError, errorMessage, type NewChatOptions } from '../api/client'
import { MAX_CHAT_NAME_LEN, MAX_TOPIC_LEN, type Chat } from '../api/types'
import type { Member } from '../state/types'
import { Modal } from './Modal'
import { personName } from './names'

interface NewChatDialogProps {
  /** The directory without the user, who is always a member of the chats they create. */
  people: readonly Member[]
  createChat: (name: string, memberIds: string[], options: NewChatOptions) => Promise<Chat>
  onCreated: (chat: Chat) => void
  onClose: () => void
}

type Kind = NonNullable<NewChatOptions['kind']>

const KINDS: { kind: Kind; label: string; hint: string }[] = [
  { kind: 'channel', label: 'Channel', hint: 'Anyone on the team can find and join it.' },
  { kind: 'private', label: 'Private', hint: 'Invite only: its members add people.' },
]

/** New chat: a channel or private chat with a name, an optional topic and its first members. A
 * name another chat has (409) is said at the name field. */
export function NewChatDialog({ people, createChat, onCreated, onClose }: NewChatDialogProps) {
  const [kind, setKind] = useState<Kind>('channel')
  const [name, setName] = useState('')
  const [topic, setTopic] = useState('')
  const [memberIds, setMemberIds] = useState<ReadonlySet<string>>(new Set())
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [nameError, setNameError] = useState<string | null>(null)
  const nameRef = useRef<HTMLInputElement>(null)
  const idPrefix = useId()
  const sorted = [...people].sort((a, b) => personName(a).localeCompare(personName(b)))

  function toggle(userId: string, checked: boolean) {
    setMemberIds((ids) => {
      const next = new Set(ids)
      if (checked) next.add(userId)
      else next.delete(userId)
      return next
    })
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setPending(true)
    setError(null)
    setNameError(null)
    try {
      const options: NewChatOptions = { kind }
      if (topic.trim() !== '') options.topic = topic.trim()
      const chat = await createChat(name.trim(), [...memberIds], options)
      onCreated(chat)
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 409) {
        setNameError(errorMessage(err))
        nameRef.current?.focus()
      } else {
        setError(errorMessage(err))
      }
      setPending(false)
    }
  }

  const nameErrorId = `${idPrefix}-name-error`
  const nameId = `${idPrefix}-name`
  return (
    <Modal title="New chat" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <fieldset className="choices">
          <legend>Kind</legend>
          {KINDS.map((k) => (
            <label key={k.kind} className="choice">
              <input
                type="radio"
                name={`${idPrefix}-kind`}
                value={k.kind}
                checked={kind === k.kind}
                aria-describedby={`${idPrefix}-${k.kind}`}
                onChange={() => setKind(k.kind)}
              />
              <span>
                <span className="choice-label">{k.label}</span>{' '}
                <span id={`${idPrefix}-${k.kind}`} className="hint">
                  {k.hint}
                </span>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={nameId}>Chat name</label>
          <input
            id={nameId}
            ref={nameRef}
            required
            maxLength={MAX_CHAT_NAME_LEN}
            placeholder="e.g. release-planning"
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
        <label className="field">
          <span>
            Topic <span className="hint">(optional)</span>
          </span>
          <input
            maxLength={MAX_TOPIC_LEN}
            placeholder="What it is about"
            value={topic}
            onChange={(event) => setTopic(event.target.value)}
          />
        </label>
        <fieldset className="people">
          <legend>Members</legend>
          {sorted.length === 0 ? (
            <p className="muted">Nobody else is on this server yet. Invite people first.</p>
          ) : (
            <ul>
              {sorted.map((user) => (
                <li key={user.id}>
                  <label>
                    <input
                      type="checkbox"
                      checked={memberIds.has(user.id)}
                      aria-describedby={`${idPrefix}-${user.id}`}
                      onChange={(event) => toggle(user.id, event.target.checked)}
                    />
                    <bdi>{personName(user)}</bdi>
                  </label>
                  <span id={`${idPrefix}-${user.id}`} className="muted">
                    @{user.username}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={pending || name.trim() === ''}>
            Create
          </button>
        </div>
      </form>
    </Modal>
  )
}
