import { useState, type ReactNode } from 'react'
import { errorMessage } from '../../api/client'
import { Modal } from '../Modal'

interface ConfirmDialogProps {
  title: string
  children: ReactNode
  /** The button that does it ("Deactivate"). */
  confirmLabel: string
  danger?: boolean
  /** Does it; a rejection is shown in the dialog, which stays open. */
  onConfirm: () => Promise<void>
  onClose: () => void
}

/** "Are you sure?" with the server's refusal shown in place (the last admin, a bot). Cancel has
 * focus at first, so that Enter does nothing it cannot undo; closing returns focus to what opened
 * it (Modal). Render it beside another open Modal, not inside it, to ask from there. */
export function ConfirmDialog({ title, children, confirmLabel, danger = false, onConfirm, onClose }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function confirm() {
    setBusy(true)
    setError(null)
    try {
      await onConfirm()
    } catch (err) {
      setError(errorMessage(err))
      setBusy(false)
    }
  }

  return (
    <Modal title={title} onClose={onClose}>
      <div className="form">
        {children}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose} autoFocus>
            Cancel
          </button>
          <button type="button" className={danger ? 'danger' : undefined} disabled={busy} onClick={() => void confirm()}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </Modal>
  )
}
