import { fireEvent, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { Composer } from './Composer'

function setup() {
  const onSend = vi.fn<(content: string) => void>()
  const onTyped = vi.fn<() => void>()
  render(<Composer chatName="general" onSend={onSend} onTyped={onTyped} />)
  const box = screen.getByRole('textbox', { name: 'Message' })
  const send = screen.getByRole('button', { name: 'Send' })
  return { onSend, onTyped, box, send, user: userEvent.setup() }
}

describe('Composer', () => {
  it('sends with Enter and clears the box', async () => {
    const { onSend, box, user } = setup()

    await user.type(box, 'hello{Enter}')

    expect(onSend).toHaveBeenCalledExactlyOnceWith('hello')
    expect(box).toHaveProperty('value', '')
  })

  it('starts a new line with Shift+Enter', async () => {
    const { onSend, box, user } = setup()

    await user.type(box, 'line one{Shift>}{Enter}{/Shift}line two')
    expect(onSend).not.toHaveBeenCalled()
    expect(box).toHaveProperty('value', 'line one\nline two')

    await user.keyboard('{Enter}')
    expect(onSend).toHaveBeenCalledExactlyOnceWith('line one\nline two')
  })

  it('lets Enter confirm an input method’s composition instead of sending', async () => {
    const { onSend, box, user } = setup()
    await user.type(box, 'にほん')

    // Chromium and Firefox: the confirming Enter arrives while isComposing is still true.
    fireEvent.keyDown(box, { key: 'Enter', isComposing: true })
    // WebKit (Safari, the desktop app's WebKitGTK) ends the composition first: isComposing is
    // false, and only keyCode 229 tells that an input method handled the key.
    fireEvent.keyDown(box, { key: 'Enter', keyCode: 229 })

    expect(onSend).not.toHaveBeenCalled()
    expect(box).toHaveProperty('value', 'にほん')
  })

  it('disables Send while the box is empty or blank, and Enter sends nothing', async () => {
    const { onSend, box, send, user } = setup()
    expect(send).toHaveProperty('disabled', true)

    await user.type(box, '   ')
    expect(send).toHaveProperty('disabled', true)
    await user.keyboard('{Enter}')
    expect(onSend).not.toHaveBeenCalled()

    await user.clear(box)
    await user.type(box, 'x')
    expect(send).toHaveProperty('disabled', false)
    await user.click(send)
    expect(onSend).toHaveBeenCalledExactlyOnceWith('x')
    expect(send).toHaveProperty('disabled', true)
  })

  it('drops trailing white space and leading blank lines but keeps inner new lines', async () => {
    const { onSend, box, user } = setup()

    await user.type(
      box,
      '{Shift>}{Enter}{/Shift}  indented{Shift>}{Enter}{Enter}{/Shift}end  {Enter}',
    )

    expect(onSend).toHaveBeenCalledExactlyOnceWith('  indented\n\nend')
  })

  it('reports typing on every edit that leaves text', async () => {
    const { onTyped, box, user } = setup()

    await user.type(box, 'abc')
    expect(onTyped).toHaveBeenCalledTimes(3)

    await user.clear(box)
    expect(onTyped).toHaveBeenCalledTimes(3)
  })
})

describe('Composer attachments', () => {
  it('has an "Attach file" button only when it can upload, passing the chosen files on', async () => {
    const onAttach = vi.fn<(files: File[]) => void>()
    const { container, rerender } = render(
      <Composer chatName="general" onSend={() => {}} onTyped={() => {}} />,
    )
    expect(screen.queryByRole('button', { name: 'Attach file' })).toBeNull()

    rerender(<Composer chatName="general" onSend={() => {}} onTyped={() => {}} onAttach={onAttach} />)
    const user = userEvent.setup()
    await user.click(screen.getByRole('button', { name: 'Attach file' }))
    const file = new File(['hi'], 'notes.txt', { type: 'text/plain' })
    await user.upload(container.querySelector<HTMLInputElement>('input[type=file]')!, file)

    expect(onAttach).toHaveBeenCalledExactlyOnceWith([file])
  })
})
