import { useId, useState } from 'react'
import { copyText } from '../clipboard'

interface CopyFieldProps {
  /** The text box's accessible name ("Invite link", "Reset link", "Bot token"). */
  label: string
  value: string
}

/**
 * A read-only text box with a Copy button, for a link or token shown once. Copying falls back to
 * selecting the box on plain HTTP (copyText), and says whether it worked.
 */
export function CopyField({ label, value }: CopyFieldProps) {
  const id = useId()
  const [note, setNote] = useState('')

  async function copy() {
    const input = document.getElementById(id)
    setNote(
      (await copyText(value, input instanceof HTMLInputElement ? input : null))
        ? 'Copied.'
        : 'Could not copy: select the text and copy it.',
    )
  }

  return (
    <>
      <div className="copy-row">
        <input id={id} readOnly aria-label={label} value={value} onFocus={(event) => event.target.select()} />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="muted copy-note" aria-live="polite">
        {note}
      </p>
    </>
  )
}
