import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { MessageMenu, type MenuEntry } from './MessageMenu'

function entries(onSelect: (key: string) => void): MenuEntry[] {
  return [
    { key: 'up', label: '👍', ariaLabel: 'React with 👍', checked: true, quick: true, onSelect: () => onSelect('up') },
    { key: 'edit', label: 'Edit', onSelect: () => onSelect('edit') },
    { key: 'link', label: 'Copy link', onSelect: () => onSelect('link') },
    { key: 'delete', label: 'Delete…', danger: true, onSelect: () => onSelect('delete') },
  ]
}

function renderMenu(onSelect = vi.fn<(key: string) => void>()) {
  render(
    <>
      <button type="button">before</button>
      <MessageMenu label="More actions for message from Bob" entries={entries(onSelect)} />
      <button type="button">outside</button>
    </>,
  )
  return onSelect
}

describe('MessageMenu', () => {
  it('is a menu button reached with Tab, whose menu opens on Enter with focus on the first item', async () => {
    renderMenu()
    const user = userEvent.setup()
    await user.click(screen.getByRole('button', { name: 'before' }))
    await user.tab()
    const button = screen.getByRole('button', { name: 'More actions for message from Bob' })
    expect(document.activeElement).toBe(button)
    expect(button.getAttribute('aria-haspopup')).toBe('menu')
    expect(button.getAttribute('aria-expanded')).toBe('false')

    await user.keyboard('{Enter}')

    const menu = screen.getByRole('menu', { name: 'Message actions' })
    expect(button.getAttribute('aria-expanded')).toBe('true')
    expect(button.getAttribute('aria-controls')).toBe(menu.id)
    const quick = screen.getByRole('menuitemcheckbox', { name: 'React with 👍' })
    expect(quick.getAttribute('aria-checked')).toBe('true')
    expect(document.activeElement).toBe(quick)
  })

  it('moves with the arrow keys, Home and End, wrapping around', async () => {
    renderMenu()
    const user = userEvent.setup()
    await user.click(screen.getByRole('button', { name: /More actions/ }))
    const focused = () => document.activeElement?.textContent

    await user.keyboard('{ArrowDown}')
    expect(focused()).toBe('Edit')
    await user.keyboard('{ArrowDown}{ArrowDown}')
    expect(focused()).toBe('Delete…')
    await user.keyboard('{ArrowDown}')
    expect(focused()).toBe('👍')
    await user.keyboard('{ArrowUp}')
    expect(focused()).toBe('Delete…')
    await user.keyboard('{Home}')
    expect(focused()).toBe('👍')
    await user.keyboard('{End}')
    expect(focused()).toBe('Delete…')
  })

  it('closes on Escape and on Tab, putting focus back on its button', async () => {
    renderMenu()
    const user = userEvent.setup()
    const button = screen.getByRole('button', { name: /More actions/ })
    await user.click(button)
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('menu')).toBeNull()
    expect(document.activeElement).toBe(button)

    await user.keyboard('{ArrowDown}') // opens it from the button too
    expect(screen.getByRole('menu')).toBeDefined()
    await user.tab()
    expect(screen.queryByRole('menu')).toBeNull()
    expect(document.activeElement).toBe(button)
  })

  it('runs the chosen item after closing, by keyboard or click, and closes on a click outside', async () => {
    const onSelect = renderMenu()
    const user = userEvent.setup()
    const button = screen.getByRole('button', { name: /More actions/ })

    await user.click(button)
    await user.keyboard('{ArrowDown}{ArrowDown}{Enter}')
    expect(onSelect).toHaveBeenCalledExactlyOnceWith('link')
    expect(screen.queryByRole('menu')).toBeNull()
    expect(document.activeElement).toBe(button)

    await user.click(button)
    await user.click(screen.getByRole('menuitem', { name: 'Delete…' }))
    expect(onSelect).toHaveBeenLastCalledWith('delete')

    await user.click(button)
    await user.click(screen.getByRole('button', { name: 'outside' }))
    expect(screen.queryByRole('menu')).toBeNull()
    expect(onSelect).toHaveBeenCalledTimes(2)
  })
})
