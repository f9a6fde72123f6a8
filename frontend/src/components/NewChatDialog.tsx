import { useId, useRef, useState, type FormEvent } from 'react'
import { ApiRequestError, errorMessage, type NewChatOptions } from '../api/client'
import type { Chat } from '../api/types'
import type { Member } from '../state/types'
import { ChatFields } from './ChatFields'
import { FormActions } from './FormActions'
import { Modal } from './Modal'
import { PeoplePicker } from './PeoplePicker'

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
  const [memberIds, setMemberIds] = useState<readonly string[]>([])
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [nameError, setNameError] = useState<string | null>(null)
  const nameRef = useRef<HTMLInputElement>(null)
  const idPrefix = useId()

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
        <ChatFields
          name={{
            label: 'Chat name',
            value: name,
            onChange: (value) => {
              setName(value)
              setNameError(null)
            },
            error: nameError,
            placeholder: 'e.g. release-planning',
          }}
          nameRef={nameRef}
          topic={{
            label: (
              <>
                Topic <span className="hint">(optional)</span>
              </>
            ),
            value: topic,
            onChange: setTopic,
            placeholder: 'What it is about',
          }}
        />
        <PeoplePicker people={people} chosen={memberIds} onChange={setMemberIds} legend="Members" />
        <FormActions error={error} onCancel={onClose} submit="Create" disabled={pending || name.trim() === ''} />
      </form>
    </Modal>
  )
}
