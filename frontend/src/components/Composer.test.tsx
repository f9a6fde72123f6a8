import { fireEvent, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { recentEmoji } from '../emoji/recent'
import { Composer, type ComposerMember } from './Composer'

function setup() {
  const onSend = vi.fn<(content: string) => void>()
  const onTyped = vi.fn<() => void>()
  render(<Composer title="#general" onSend={onSend} onTyped={onTyped} />)
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
      <Composer title="#general" onSend={() => {}} onTyped={() => {}} />,
    )
    expect(screen.queryByRole('button', { name: 'Attach file' })).toBeNull()

    rerender(<Composer title="#general" onSend={() => {}} onTyped={() => {}} onAttach={onAttach} />)
    const user = userEvent.setup()
    await user.click(screen.getByRole('button', { name: 'Attach file' }))
    const file = new File(['hi'], 'notes.txt', { type: 'text/plain' })
    await user.upload(container.querySelector<HTMLInputElement>('input[type=file]')!, file)

    expect(onAttach).toHaveBeenCalledExactlyOnceWith([file])
  })
})

describe('Composer completion', () => {
  const members: ComposerMember[] = [
    { id: 'u1', username: 'ada', displayName: 'Ada Lovelace', status: 'online' },
    { id: 'u2', username: 'bob', displayName: 'Bob Stone', status: 'busy' },
    { id: 'u3', username: 'bea', displayName: 'Beatrice Ode' },
    { id: 'u4', username: 'cy', displayName: 'Cy Bell', online: true },
  ]

  function complete() {
    const onSend = vi.fn<(content: string) => void>()
    const onTyped = vi.fn<() => void>()
    render(
      <Composer
        title="#general"
        onSend={onSend}
        onTyped={onTyped}
        members={members}
      />,
    )
    const box = screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Message' })
    return { onSend, onTyped, box, user: userEvent.setup() }
  }

  /** The options' text, and which is selected. */
  function options(name: string) {
    const list = screen.getByRole('listbox', { name })
    return within(list)
      .getAllByRole('option')
      .map((o) => `${o.getAttribute('aria-selected') === 'true' ? '>' : ' '}${o.textContent}`)
  }

  it('suggests members on @, filtered by username or display name as you type', async () => {
    const { box, user } = complete()

    await user.type(box, 'hi @')
    expect(options('People')).toEqual([
      '>Ada Lovelace@ada, online',
      ' Beatrice Ode@bea, offline',
      ' Bob Stone@bob, busy',
      ' Cy Bell@cy, online',
    ])

    await user.type(box, 'b')
    // Username matches first, then display names with a word that starts so (Cy Bell).
    expect(options('People')).toEqual([
      '>Beatrice Ode@bea, offline',
      ' Bob Stone@bob, busy',
      ' Cy Bell@cy, online',
    ])
    await user.type(box, 'el')
    expect(options('People')).toEqual(['>Cy Bell@cy, online'])
  })

  it('ties the box to the list with aria-controls and aria-activedescendant', async () => {
    const { box, user } = complete()
    expect(box.getAttribute('aria-autocomplete')).toBe('list')
    expect(box.getAttribute('aria-haspopup')).toBe('listbox')
    expect(box.hasAttribute('aria-controls')).toBe(false)

    await user.type(box, '@b{ArrowDown}')

    const list = screen.getByRole('listbox', { name: 'People' })
    expect(box.getAttribute('aria-controls')).toBe(list.id)
    const active = document.getElementById(box.getAttribute('aria-activedescendant')!)
    expect(active?.textContent).toBe('Bob Stone@bob, busy')
    expect(active?.getAttribute('aria-selected')).toBe('true')
    const count = document.querySelector('.completion-count')
    expect(count?.getAttribute('aria-live')).toBe('polite')
    expect(count?.textContent).toBe('3 suggestions')
    // Focus never leaves the box.
    expect(document.activeElement).toBe(box)
  })

  it('moves with the arrows, wrapping, and Enter inserts "@username " at the caret', async () => {
    const { box, onSend, user } = complete()

    await user.type(box, 'ping @b{ArrowDown}{ArrowDown}{ArrowDown}')
    expect(options('People')[0]).toBe('>Beatrice Ode@bea, offline')
    await user.keyboard('{ArrowUp}')
    expect(options('People')[2]).toBe('>Cy Bell@cy, online')
    await user.keyboard('{ArrowUp}')
    expect(options('People')[1]).toBe('>Bob Stone@bob, busy')
    await user.keyboard('{Enter}')

    expect(box.value).toBe('ping @bob ')
    expect(box.selectionStart).toBe('ping @bob '.length)
    expect(onSend).not.toHaveBeenCalled()
    expect(screen.queryByRole('listbox')).toBeNull()

    // The list is closed: Enter sends again.
    await user.keyboard('ok{Enter}')
    expect(onSend).toHaveBeenCalledExactlyOnceWith('ping @bob ok')
  })

  it('inserts with Tab in the middle of the text, keeping what follows', async () => {
    const { box, user } = complete()
    await user.type(box, 'hey  there')
    box.setSelectionRange(4, 4)
    await user.type(box, '@a', { initialSelectionStart: 4, initialSelectionEnd: 4 })
    expect(options('People')).toEqual(['>Ada Lovelace@ada, online'])

    await user.keyboard('{Tab}')

    expect(box.value).toBe('hey @ada there')
    expect(document.activeElement).toBe(box)
  })

  it('closes with Escape, which does not send, and stays closed for that @', async () => {
    const { box, onSend, user } = complete()

    await user.type(box, '@b{Escape}')
    expect(screen.queryByRole('listbox')).toBeNull()
    await user.type(box, 'o')
    expect(screen.queryByRole('listbox')).toBeNull()

    await user.keyboard('{Enter}')
    expect(onSend).toHaveBeenCalledExactlyOnceWith('@bo')

    await user.type(box, 'x @')
    expect(screen.getByRole('listbox', { name: 'People' })).toBeTruthy()
  })

  it('does not complete an @ inside a word (an e-mail address) or with no match', async () => {
    const { box, user } = complete()

    await user.type(box, 'mail ann@b')
    expect(screen.queryByRole('listbox')).toBeNull()
    await user.clear(box)
    await user.type(box, '@zz')
    expect(screen.queryByRole('listbox')).toBeNull()
  })

  it('inserts by click, keeping focus in the box', async () => {
    const { box, user } = complete()

    await user.type(box, '@')
    await user.click(screen.getByRole('option', { name: /^Cy Bell/ }))

    expect(box.value).toBe('@cy ')
    expect(document.activeElement).toBe(box)
  })

  it('completes :shortcode (two characters or more) to the emoji itself', async () => {
    const { box, onSend, user } = complete()

    await user.type(box, 'nice :t')
    expect(screen.queryByRole('listbox')).toBeNull()
    await user.type(box, 'ada')
    await vi.waitFor(() => expect(options('Emoji')[0]).toBe('>🎉:tada:Party Popper'))
    await user.keyboard('{Enter}')

    expect(box.value).toBe('nice 🎉')
    expect(onSend).not.toHaveBeenCalled()
    expect(recentEmoji()[0]).toBe('🎉')
    localStorage.clear()
  })

  it('chooses among emoji by keyboard, and leaves times and addresses alone', async () => {
    const { box, user } = complete()

    await user.type(box, ':+1')
    await vi.waitFor(() => expect(options('Emoji')[0]).toBe('>👍:+1:Thumbs Up'))
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('listbox')).toBeNull()
    await user.clear(box)

    await user.type(box, 'at 12:30 see https://example.com')
    expect(screen.queryByRole('listbox')).toBeNull()
    localStorage.clear()
  })
})

describe('Composer onEditLast', () => {
  it('is called by ArrowUp in an empty box only', async () => {
    const onEditLast = vi.fn<() => void>()
    render(
      <Composer title="#general" onSend={() => {}} onTyped={() => {}} onEditLast={onEditLast} />,
    )
    const box = screen.getByRole('textbox', { name: 'Message' })
    const user = userEvent.setup()

    await user.click(box)
    await user.keyboard('{ArrowUp}')
    expect(onEditLast).toHaveBeenCalledOnce()

    await user.keyboard('{Shift>}{ArrowUp}{/Shift}')
    await user.type(box, 'draft{ArrowUp}')
    expect(onEditLast).toHaveBeenCalledOnce()
  })

  it('leaves ArrowUp alone without it', () => {
    render(<Composer title="#general" onSend={() => {}} onTyped={() => {}} />)
    const box = screen.getByRole('textbox', { name: 'Message' })

    // Not prevented: the browser moves the caret as usual.
    expect(fireEvent.keyDown(box, { key: 'ArrowUp' })).toBe(true)
  })
})

describe('Composer completion and focus', () => {
  it('hides the list while the box is not focused, and shows it again on return', async () => {
    render(
      <>
        <Composer
          title="#general"
          onSend={() => {}}
          onTyped={() => {}}
          members={[{ id: 'u2', username: 'bob', displayName: 'Bob Stone' }]}
        />
        <button type="button">Elsewhere</button>
      </>,
    )
    const user = userEvent.setup()
    const box = screen.getByRole('textbox', { name: 'Message' })

    await user.type(box, '@b')
    expect(screen.getByRole('listbox', { name: 'People' })).toBeTruthy()
    await user.click(screen.getByRole('button', { name: 'Elsewhere' }))
    expect(screen.queryByRole('listbox')).toBeNull()
    expect(box.hasAttribute('aria-activedescendant')).toBe(false)

    box.focus()
    await vi.waitFor(() => expect(screen.getByRole('listbox', { name: 'People' })).toBeTruthy())
  })
})
