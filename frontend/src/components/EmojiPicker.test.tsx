import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadEmoji } from '../emoji/emoji'
import { recentEmoji } from '../emoji/recent'
import { EmojiPicker, move, PICKER_COLUMNS } from './EmojiPicker'

// The data loads once for the file; the picker then has it from its first render.
beforeAll(() => loadEmoji())
afterEach(() => localStorage.clear())

/** A button that opens the picker, as a message's "Add reaction" would. */
function Opener({ onPick }: { onPick: (emoji: string) => void }) {
  const [open, setOpen] = useState(false)
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Add reaction
      </button>
      {open && (
        <EmojiPicker
          label="Add a reaction"
          onPick={(emoji) => {
            onPick(emoji)
            setOpen(false)
          }}
          onClose={() => setOpen(false)}
        />
      )}
      <button type="button">Elsewhere</button>
    </>
  )
}

async function openPicker() {
  const onPick = vi.fn<(emoji: string) => void>()
  const user = userEvent.setup()
  render(<Opener onPick={onPick} />)
  const opener = screen.getByRole('button', { name: 'Add reaction' })
  const elsewhere = screen.getByRole('button', { name: 'Elsewhere' })
  await user.click(opener)
  // Role queries walk all 1,900 emoji buttons: find the dialog and box by selector, and check
  // their roles and names once, in the first test.
  const dialog = document.querySelector<HTMLElement>('[role="dialog"]')!
  const search = dialog.querySelector<HTMLInputElement>('input')!
  return { onPick, user, opener, elsewhere, dialog, search }
}

/** The focused emoji's name. */
function focusedName(): string | null {
  return document.activeElement?.getAttribute('aria-label') ?? null
}

describe('EmojiPicker', () => {
  it('opens with the search box focused, recent emoji first, then the categories', async () => {
    localStorage.setItem('herald.recentEmoji', JSON.stringify(['🎉', '👍']))
    const { search, dialog } = await openPicker()

    expect(screen.getByRole('dialog', { name: 'Add a reaction' })).toBe(dialog)
    expect(within(dialog).getByRole('searchbox', { name: 'Search emoji' })).toBe(search)
    expect(document.activeElement).toBe(search)
    const grids = dialog.querySelectorAll('[role="grid"]')
    const labels = [...grids].map(
      (grid) => document.getElementById(grid.getAttribute('aria-labelledby')!)?.textContent,
    )
    expect(labels.slice(0, 3)).toEqual(['Recently used', 'Smileys & People', 'Animals & Nature'])
    const recent = [...grids[0]!.querySelectorAll('button')]
    expect(recent.map((b) => [b.textContent, b.getAttribute('aria-label')])).toEqual([
      ['🎉', 'Party Popper'],
      ['👍', 'Thumbs Up'],
    ])
    // One tab stop for all the grids: the first emoji.
    expect(dialog.querySelectorAll('button[tabindex="0"]')).toHaveLength(1)
    expect(recent[0]?.tabIndex).toBe(0)
  })

  it('searches, and picks by keyboard: ArrowDown into the results, arrows, Enter', async () => {
    const { user, onPick, dialog } = await openPicker()

    await user.keyboard('thumbs')
    const results = within(dialog).getByRole('grid', { name: 'Search results' })
    const cells = within(results).getAllByRole('gridcell')
    expect(within(cells[0]!).getByRole('button').getAttribute('aria-label')).toBe('Thumbs Up')
    expect(within(dialog).getByRole('status').textContent).toMatch(/^\d+ emoji found\.$/)

    await user.keyboard('{ArrowDown}')
    expect(focusedName()).toBe('Thumbs Up')
    await user.keyboard('{ArrowRight}')
    expect(focusedName()).toBe('Thumbs Down')
    await user.keyboard('{ArrowLeft}{ArrowRight}{Enter}')

    expect(onPick).toHaveBeenCalledExactlyOnceWith('👎')
    expect(recentEmoji()).toEqual(['👎'])
  })

  it('picks the best result with Enter in the search box', async () => {
    const { user, onPick } = await openPicker()

    await user.keyboard(':tada:{Enter}')

    expect(onPick).toHaveBeenCalledExactlyOnceWith('🎉')
  })

  it('moves by rows, across sections, and from the top row to the search box', async () => {
    localStorage.setItem('herald.recentEmoji', JSON.stringify(['🎉', '👍', '🚀']))
    const { user, search } = await openPicker()

    await user.keyboard('{ArrowDown}')
    expect(focusedName()).toBe('Party Popper')
    await user.keyboard('{ArrowRight}{ArrowRight}')
    expect(focusedName()).toBe('Rocket')
    // Down from the recent row: the same column of the first category.
    await user.keyboard('{ArrowDown}')
    expect(focusedName()).toBe('Grinning Face with Smiling Eyes')
    await user.keyboard('{ArrowDown}')
    const below = focusedName()
    expect(below).not.toBe('Grinning Face with Smiling Eyes')
    await user.keyboard('{ArrowUp}{ArrowUp}')
    expect(focusedName()).toBe('Rocket')
    await user.keyboard('{End}')
    expect(focusedName()).toBe('Rocket')
    await user.keyboard('{Home}')
    expect(focusedName()).toBe('Party Popper')
    await user.keyboard('{ArrowUp}')
    expect(document.activeElement).toBe(search)
  })

  it('keeps one tab stop, on the emoji last moved to', async () => {
    const { user, dialog, search } = await openPicker()

    await user.keyboard('{ArrowDown}{ArrowRight}')
    const second = document.activeElement as HTMLButtonElement
    await user.click(search)
    await user.tab()

    expect(document.activeElement).toBe(second)
    expect(dialog.querySelectorAll('button[tabindex="0"]')).toHaveLength(1)
  })

  it('closes with Escape and puts focus back on the opener', async () => {
    const { user, opener, onPick } = await openPicker()

    await user.keyboard('{ArrowDown}{Escape}')

    expect(document.querySelector('[role="dialog"]')).toBeNull()
    expect(document.activeElement).toBe(opener)
    expect(onPick).not.toHaveBeenCalled()
  })

  it('puts focus back on the opener after a pick too', async () => {
    const { user, opener, onPick } = await openPicker()

    await user.keyboard('rocket{ArrowDown} ')

    expect(onPick).toHaveBeenCalledExactlyOnceWith('🚀')
    expect(document.querySelector('[role="dialog"]')).toBeNull()
    expect(document.activeElement).toBe(opener)
  })

  it('closes when a click or focus goes elsewhere, leaving focus there', async () => {
    const { user, opener, elsewhere } = await openPicker()

    await user.click(elsewhere)
    expect(document.querySelector('[role="dialog"]')).toBeNull()
    expect(document.activeElement).toBe(elsewhere)

    await user.click(opener)
    expect(document.querySelector('[role="dialog"]')).not.toBeNull()
    await user.keyboard('rocket') // a short grid: tabbing checks every button
    await user.tab() // to the grid
    await user.tab() // out of the picker
    expect(document.activeElement).toBe(elsewhere)
    expect(document.querySelector('[role="dialog"]')).toBeNull()
  })

  it('says when nothing matches', async () => {
    const { user, dialog } = await openPicker()

    await user.keyboard('qqqqzz')

    expect(dialog.querySelector('[role="grid"]')).toBeNull()
    expect(within(dialog).getByRole('status').textContent).toBe('No emoji match “qqqqzz”.')
  })
})

describe('move', () => {
  // Sections of 3, 10 and 5 emoji: rows [0 1 2] / [3..10] [11 12] / [13..17].
  const sections = [3, 10, 5].reduce<{ cells: null[]; start: number }[]>((out, n) => {
    const start = out.reduce((sum, s) => sum + s.cells.length, 0)
    return [...out, { cells: Array<null>(n).fill(null), start }]
  }, [])

  it.each([
    ['ArrowRight', 2, false, 3],
    ['ArrowRight', 17, false, 17],
    ['ArrowLeft', 3, false, 2],
    ['ArrowLeft', 0, false, 0],
    ['ArrowDown', 2, false, 5], // same column of the next section
    ['ArrowDown', 9, false, 12], // a shorter row below: its last cell
    ['ArrowDown', 4, false, 12],
    ['ArrowDown', 12, false, 14],
    ['ArrowDown', 15, false, 15], // the last row stays
    ['ArrowUp', 11, false, 3],
    ['ArrowUp', 14, false, 12],
    ['ArrowUp', 3, false, 0],
    ['ArrowUp', 10, false, 2], // column 7 above a row of three: its last cell
    ['ArrowUp', 1, false, -1], // the search box
    ['Home', 9, false, 3],
    ['End', 4, false, 10],
    ['End', 11, false, 12],
    ['Home', 15, true, 0],
    ['End', 1, true, 17],
  ])('%s from %i (ctrl %s) goes to %i', (key, from, ctrl, to) => {
    expect(PICKER_COLUMNS).toBe(8)
    expect(move(sections, from, key, ctrl)).toBe(to)
  })

  it('ignores other keys', () => {
    expect(move(sections, 4, 'a', false)).toBeUndefined()
    expect(move(sections, 4, 'Enter', false)).toBeUndefined()
  })
})
