import { useId, useLayoutEffect, useRef, type ReactNode } from 'react'

interface ModalProps {
  title: string
  /** Escape, a click on the backdrop, or a Cancel button inside. The parent unmounts the modal. */
  onClose: () => void
  children: ReactNode
}

/**
 * A modal dialog on the native <dialog> element: the browser traps focus and makes the page
 * behind it inert. Open while mounted; on unmount, focus goes back to what had it before.
 */
export function Modal({ title, onClose, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()

  useLayoutEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    const opener = document.activeElement
    openModal(dialog)
    // Taking the dialog out of the document ends its modality; only focus needs putting back.
    return () => {
      if (opener instanceof HTMLElement) opener.focus()
    }
  }, [])

  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={titleId}
      onCancel={(event) => {
        // The parent decides: it unmounts the dialog, which closes it.
        event.preventDefault()
        onClose()
      }}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault()
          onClose()
        }
      }}
      onClick={(event) => {
        // The inner box fills the dialog, so only a click on the backdrop targets the dialog.
        if (event.target === event.currentTarget) onClose()
      }}
    >
      <div className="modal-body">
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
    </dialog>
  )
}

// jsdom, which runs the component tests, has no showModal; there the dialog is merely shown.
function openModal(dialog: HTMLDialogElement) {
  if (typeof dialog.showModal === 'function') {
    dialog.showModal()
  } else {
    dialog.setAttribute('open', '')
  }
}
