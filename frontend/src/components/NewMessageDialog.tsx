import { useState, type FormEvent } from 'react'
import { errorMessage } from '../api/client'
import { MAX_DM_MEMBERS, type Chat } from '../api/types'
import type { Member } from '../state/types'
import { FormActions } from './FormActions'
import { Modal } from './Modal'
import { personName } from './names'
import { PeoplePicker } from './PeoplePicker'

/** People one may choose besides the user (backend.MaxDMMembers counts the user too). */
const MAX_PEOPLE = MAX_DM_MEMBERS - 1

interface NewMessageDialogProps {
  /** The directory without the user. */
  people: readonly Member[]
  createDM: (userIds: string[]) => Promise<Chat>
  onCreated: (chat: Chat) => void
  onClose: () => void
}

/** Direct message: 1 to 7 people (the same people always get the same DM). */
export function NewMessageDialog({ people, createDM, onCreated, onClose }: NewMessageDialogProps) {
  const [query, setQuery] = useState('')
  const [chosen, setChosen] = useState<readonly string[]>([])
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const words = query.trim().toLowerCase()
  const full = chosen.length >= MAX_PEOPLE

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    setPending(true)
    setError(null)
    try {
      onCreated(await createDM([...chosen]))
    } catch (err) {
      setError(errorMessage(err))
      setPending(false)
    }
  }

  return (
    <Modal title="Direct message" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label className="field">
          <span>Find people</span>
          <input type="search" value={query} onChange={(event) => setQuery(event.target.value)} />
        </label>
        <PeoplePicker
          people={people}
          chosen={chosen}
          onChange={setChosen}
          legend="People"
          max={MAX_PEOPLE}
          shown={(u) => words === '' || personName(u).toLowerCase().includes(words) || u.username.includes(words)}
          hint={
            <p className="hint" aria-live="polite">
              {full ? `That is the most for one direct message (${MAX_PEOPLE} people and you).` : `Choose 1 to ${MAX_PEOPLE} people.`}{' '}
              {chosen.length > 0 && `${chosen.length} chosen.`}
            </p>
          }
        />
        <FormActions error={error} onCancel={onClose} submit="Start" disabled={pending || chosen.length === 0} />
      </form>
    </Modal>
  )
}
