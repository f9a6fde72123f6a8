import { useState, type FormEvent } from 'react'
import { errorMessage } from '../api/client'
import type { Member } from '../state/types'
import { Modal } from './Modal'
import { personName } from './names'

interface AddMemberDialogProps {
  /** The chat's title (chatTitle). */
  title: string
  /** People in the directory who are not in the chat yet. */
  candidates: readonly Member[]
  addMember: (userId: string) => Promise<void>
  onClose: () => void
}

export function AddMemberDialog({
  title,
  candidates,
  addMember,
  onClose,
}: AddMemberDialogProps) {
  const sorted = [...candidates].sort((a, b) => personName(a).localeCompare(personName(b)))
  const [userId, setUserId] = useState(sorted[0]?.id ?? '')
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setPending(true)
    setError(null)
    try {
      await addMember(userId)
      onClose()
    } catch (err) {
      setError(errorMessage(err))
      setPending(false)
    }
  }

  return (
    <Modal title={`Add someone to ${title}`} onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)}>
        {sorted.length === 0 ? (
          <p className="muted">Everyone on this server is already in this chat.</p>
        ) : (
          <label className="field">
            <span>Person</span>
            <select value={userId} onChange={(event) => setUserId(event.target.value)}>
              {sorted.map((user) => (
                <option key={user.id} value={user.id}>
                  {personName(user)} (@{user.username})
                </option>
              ))}
            </select>
          </label>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>
            {sorted.length === 0 ? 'Close' : 'Cancel'}
          </button>
          {sorted.length > 0 && (
            <button type="submit" disabled={pending}>
              Add
            </button>
          )}
        </div>
      </form>
    </Modal>
  )
}
