import { useState, type FormEvent, type KeyboardEvent } from 'react'
import { UploadButton } from './UploadButton'

/** The server's limit on a message (backend.MaxContentLen), in characters. */
const MAX_CONTENT_LENGTH = 8000

/** The most rows the message box grows to before it scrolls. */
const MAX_ROWS = 8

interface ComposerProps {
  chatName: string
  onSend: (content: string) => void
  /** Called on every edit that leaves text in the box; the store throttles what it sends. */
  onTyped: () => void
  /** Uploads the files chosen with "Attach file"; no button without it. */
  onAttach?: (files: File[]) => void
}

/** The message box: Enter sends, Shift+Enter starts a new line. Mount one per chat (key). */
export function Composer({ chatName, onSend, onTyped, onAttach }: ComposerProps) {
  const [text, setText] = useState('')
  const content = tidy(text)

  function send() {
    if (content === '') return
    onSend(content)
    setText('')
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    send()
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // While an input method is composing (e.g. Japanese), Enter confirms the composition. WebKit
    // ends the composition before that Enter's keydown (isComposing is false); its keyCode 229
    // still says an input method handled the key.
    const composing = event.nativeEvent.isComposing || event.nativeEvent.keyCode === 229
    if (event.key === 'Enter' && !event.shiftKey && !composing) {
      event.preventDefault()
      send()
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      {onAttach && <UploadButton onFiles={onAttach} />}
      <textarea
        aria-label="Message"
        // Opening a chat puts the cursor in its message box, as chat apps do.
        autoFocus
        placeholder={`Message #${chatName}`}
        rows={Math.min(MAX_ROWS, text.split('\n').length)}
        maxLength={MAX_CONTENT_LENGTH}
        value={text}
        onChange={(event) => {
          setText(event.target.value)
          if (event.target.value.trim() !== '') onTyped()
        }}
        onKeyDown={keyDown}
      />
      <button type="submit" disabled={content === ''}>
        Send
      </button>
    </form>
  )
}

/** Drops leading blank lines and trailing white space; keeps indentation of the first line. */
function tidy(text: string): string {
  return text.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd()
}
