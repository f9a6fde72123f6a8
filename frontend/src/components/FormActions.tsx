interface FormActionsProps {
  /** The server's refusal, shown above the buttons (role alert); null: none. */
  error: string | null
  onCancel: () => void
  /** The submit button's text ("Create", "Add bot"). */
  submit: string
  disabled: boolean
}

/** The end of a dialog's form: the refusal, Cancel and the submit button. */
export function FormActions({ error, onCancel, submit, disabled }: FormActionsProps) {
  return (
    <>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" disabled={disabled}>
          {submit}
        </button>
      </div>
    </>
  )
}
