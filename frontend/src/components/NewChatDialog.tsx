import { useId, useState, type FormEvent } from 'react'
import { errorMessage } from '../api/client'
import type { Chat } from '../api/types'
import type { Member } from '../state/types'
import { Modal } from './Modal'
import { personName } from './names'

/** The server's limit on a chat name (backend.MaxChatNameLen), in characters. */
const MAX_CHAT_NAME_LENGTH = 80

interface NewChatDialogProps {
  /** The directory without the user, who is always a member of the chats they create. */
  people: readonly Member[]
  createChat: (name: string, memberIds: string[]) => Promise<Chat>
  onCreated: (chat: Chat) => void
  onClose: () => void
}

export function NewChatDialog({ people, createChat, onCreated, onClose }: NewChatDialogProps) {
  const [name, setName] = useState('')
  const [memberIds, setMemberIds] = useState<ReadonlySet<string>>(new Set())
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)
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
    try {
      const chat = await createChat(name.trim(), [...memberIds])
      onCreated(chat)
    } catch (err) {
      setError(errorMessage(err))
      setPending(false)
    }
  }

  return (
    <Modal title="New chat" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label className="field">
          <span>Chat name</span>
          <input
            required
            maxLength={MAX_CHAT_NAME_LENGTH}
            placeholder="e.g. release-planning"
            value={name}
            onChange={(event) => setName(event.target.value)}
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
