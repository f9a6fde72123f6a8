import { useId, type ReactNode, type Ref } from 'react'
import { MAX_CHAT_NAME_LEN, MAX_TOPIC_LEN } from '../api/types'

interface ChatFieldsProps {
  /** Without it the name is not shown (a DM has none; a member who may only set the topic). */
  name?: {
    label: string
    value: string
    onChange: (value: string) => void
    /** The server's refusal of the name (409: taken), said at the field. */
    error: string | null
    placeholder?: string
  }
  /** The name's input, to focus it after a refusal. */
  nameRef?: Ref<HTMLInputElement>
  topic: {
    label: ReactNode
    value: string
    onChange: (value: string) => void
    placeholder?: string
  }
}

/** A chat's name and topic fields, as New chat and Chat settings show them, with the server's
 * limits (backend.MaxChatNameLen, MaxTopicLen). The name is required. */
export function ChatFields({ name, nameRef, topic }: ChatFieldsProps) {
  const idPrefix = useId()
  const nameId = `${idPrefix}-name`
  const nameErrorId = `${idPrefix}-name-error`
  return (
    <>
      {name && (
        <div className="field">
          <label htmlFor={nameId}>{name.label}</label>
          <input
            id={nameId}
            ref={nameRef}
            required
            maxLength={MAX_CHAT_NAME_LEN}
            placeholder={name.placeholder}
            value={name.value}
            aria-invalid={name.error ? true : undefined}
            aria-describedby={name.error ? nameErrorId : undefined}
            onChange={(event) => name.onChange(event.target.value)}
          />
          {name.error && (
            <span id={nameErrorId} className="error field-error" role="alert">
              {name.error}
            </span>
          )}
        </div>
      )}
      <label className="field">
        <span>{topic.label}</span>
        <input
          maxLength={MAX_TOPIC_LEN}
          placeholder={topic.placeholder}
          value={topic.value}
          onChange={(event) => topic.onChange(event.target.value)}
        />
      </label>
    </>
  )
}
