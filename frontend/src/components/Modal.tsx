import { useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react'

interface ModalProps {
  title: string
  /** Escape, a click on the backdrop, or a Cancel button inside. The parent unmounts the modal. */
  onClose: () => void
  children: ReactNode
}

/**
 * A modal dialog on the native <dialog> element: the browser traps focus and makes the page
 * behind it inert. Open while mounted. On unmount (Escape, Cancel, a close button, a choice that
 * ends it) focus goes back to what had it when the dialog opened, typically the button that opened
 * it, if that is still in the document; a dialog opened from a menu item gets the menu's button,
 * which menus focus before running an item (see MessageMenu).
 */
export function Modal({ title, onClose, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  // Read while rendering: by the time effects run, an autoFocus field inside has taken focus.
  const [opener] = useState(() => (typeof document === 'undefined' ? null : document.activeElement))

  // What had focus inside when StrictMode's rehearsal unmount closed the dialog (development only).
  const focusedInside = useRef<Element | null>(null)

  useLayoutEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    openModal(dialog)
    const inside = focusedInside.current
    focusedInside.current = null
    if (inside instanceof HTMLElement && dialog.contains(inside)) inside.focus()
    return () => {
      // Layout-effect cleanups run before React takes the dialog out of the document: while it is
      // still open and modal, the page behind it is inert and focus() there does nothing. Close it
      // first.
      focusedInside.current = dialog.contains(document.activeElement) ? document.activeElement : null
      closeModal(dialog)
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus()
    }
  }, [opener])

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

function closeModal(dialog: HTMLDialogElement) {
  if (!dialog.open) return
  if (typeof dialog.close === 'function') {
    dialog.close()
  } else {
    dialog.removeAttribute('open')
  }
}
