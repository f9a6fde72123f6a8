import { act, fireEvent, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { StrictMode, useState } from 'react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Modal } from './Modal'

/** A button that opens a dialog with a Cancel button, as every dialog of the app is opened. */
function Opener({ label = 'Open it', removeOpener = false }: { label?: string; removeOpener?: boolean }) {
  const [open, setOpen] = useState(false)
  return (
    <>
      {!(removeOpener && open) && (
        <button type="button" onClick={() => setOpen(true)}>
          {label}
        </button>
      )}
      <button type="button">Elsewhere</button>
      {open && (
        <Modal title="A dialog" onClose={() => setOpen(false)}>
          <input aria-label="Inside" autoFocus />
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </Modal>
      )}
    </>
  )
}

// jsdom has no showModal. A browser's modal dialog makes the rest of the page inert: focus()
// on an element outside an open modal dialog does nothing. This models that, so the tests catch
// focus put back while the dialog is still modal.
const original = {
  showModal: Object.getOwnPropertyDescriptor(HTMLDialogElement.prototype, 'showModal'),
  close: Object.getOwnPropertyDescriptor(HTMLDialogElement.prototype, 'close'),
  focus: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'focus'),
}
const focusOriginal = (element: HTMLElement, options?: FocusOptions) => {
  const focus = original.focus?.value as ((this: HTMLElement, options?: FocusOptions) => void) | undefined
  focus?.call(element, options)
}
const modal = new Set<HTMLDialogElement>()

beforeEach(() => {
  HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
    this.setAttribute('open', '')
    modal.add(this)
  }
  HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
    this.removeAttribute('open')
    modal.delete(this)
  }
  HTMLElement.prototype.focus = function (this: HTMLElement, options?: FocusOptions) {
    for (const dialog of modal) {
      if (dialog.isConnected && !dialog.contains(this)) return // inert
    }
    focusOriginal(this, options)
  }
})

afterEach(() => {
  modal.clear()
  for (const key of ['showModal', 'close'] as const) {
    const descriptor = original[key]
    if (descriptor) Object.defineProperty(HTMLDialogElement.prototype, key, descriptor)
    else delete (HTMLDialogElement.prototype as Partial<HTMLDialogElement>)[key]
  }
  if (original.focus) Object.defineProperty(HTMLElement.prototype, 'focus', original.focus)
})

describe('Modal', () => {
  it('opens modal with focus inside, labelled by its title', async () => {
    const user = userEvent.setup()
    render(<Opener />)
    await user.click(screen.getByRole('button', { name: 'Open it' }))
    const dialog = screen.getByRole('dialog', { name: 'A dialog' })
    expect(modal.has(dialog as HTMLDialogElement)).toBe(true)
    expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Inside' }))
  })

  const closers: [string, () => Promise<void>][] = [
    [
      'Escape',
      async () => {
        await userEvent.keyboard('{Escape}')
      },
    ],
    [
      'the browser’s cancel event',
      async () => {
        fireEvent(screen.getByRole('dialog'), new Event('cancel', { cancelable: true }))
        await Promise.resolve()
      },
    ],
    ['Cancel', () => userEvent.click(screen.getByRole('button', { name: 'Cancel' }))],
    ['a click on the backdrop', () => userEvent.click(screen.getByRole('dialog'))],
  ]
  it.each(closers)('puts focus back on the button that opened it after %s', async (_, close) => {
    render(
      <StrictMode>
        <Opener />
      </StrictMode>,
    )
    const opener = screen.getByRole('button', { name: 'Open it' })
    await userEvent.click(opener)
    // Focus stays where the dialog put it through StrictMode's rehearsal unmount and mount.
    expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Inside' }))

    await act(close)

    expect(screen.queryByRole('dialog')).toBeNull()
    expect(document.activeElement).toBe(opener)
  })

  it('opened from the keyboard, gives focus back to the same button', async () => {
    const user = userEvent.setup()
    render(<Opener />)
    const opener = screen.getByRole('button', { name: 'Open it' })
    opener.focus()
    await user.keyboard('{Enter}')
    expect(screen.getByRole('dialog')).toBeTruthy()
    await user.keyboard('{Escape}')
    expect(document.activeElement).toBe(opener)
  })

  it('leaves focus alone when the opener is no longer in the document', async () => {
    const user = userEvent.setup()
    render(<Opener removeOpener />)
    const opener = screen.getByRole('button', { name: 'Open it' })
    await user.click(opener)
    const focus = vi.spyOn(opener, 'focus')
    expect(opener.isConnected).toBe(false)

    await user.keyboard('{Escape}')

    expect(screen.queryByRole('dialog')).toBeNull()
    expect(focus).not.toHaveBeenCalled()
  })
})
