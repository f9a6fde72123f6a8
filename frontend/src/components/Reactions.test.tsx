import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Reaction } from '../api/types'
import { Reactions, whoReacted } from './Reactions'

const names: Record<string, string> = { me: 'Ada', u2: 'Ann', u3: 'Bob', u4: 'Cy' }
const nameOf = (id: string) => names[id] ?? 'Unknown user'

function reaction(emoji: string, ...userIds: string[]): Reaction {
  return { emoji, count: userIds.length, userIds }
}

function setup(reactions: Reaction[]) {
  const onToggle = vi.fn<(emoji: string, on: boolean) => void>()
  const onAdd = vi.fn<() => void>()
  render(
    <Reactions reactions={reactions} meId="me" nameOf={nameOf} onToggle={onToggle} onAdd={onAdd} />,
  )
  return { onToggle, onAdd, user: userEvent.setup() }
}

describe('Reactions', () => {
  it('shows a pill per emoji with its count, pressed where the reader reacted', () => {
    setup([reaction('👍', 'u2', 'me', 'u3'), reaction('🎉', 'u4')])

    const group = screen.getByRole('group', { name: 'Reactions' })
    const thumbs = screen.getByRole('button', { name: '👍 3' })
    const party = screen.getByRole('button', { name: '🎉 1' })
    expect(group.contains(thumbs) && group.contains(party)).toBe(true)
    expect(thumbs.getAttribute('aria-pressed')).toBe('true')
    expect(party.getAttribute('aria-pressed')).toBe('false')
  })

  it('describes each pill by who reacted, the reader last, in a tooltip', () => {
    setup([reaction('👍', 'u2', 'me', 'u3'), reaction('🎉', 'u4')])

    const thumbs = screen.getByRole('button', { name: '👍 3', description: 'Ann, Bob and you' })
    const tip = document.getElementById(thumbs.getAttribute('aria-describedby')!)
    expect(tip?.getAttribute('role')).toBe('tooltip')
    expect(tip?.textContent).toBe('Ann, Bob and you')
    expect(screen.getByRole('button', { name: '🎉 1' }).getAttribute('aria-describedby')).not.toBe(
      thumbs.getAttribute('aria-describedby'),
    )
    screen.getByRole('button', { name: '🎉 1', description: 'Cy' })
  })

  it('toggles: a click adds the reader’s reaction, or takes it back', async () => {
    const { onToggle, user } = setup([reaction('👍', 'u2', 'me'), reaction('🎉', 'u4')])

    await user.click(screen.getByRole('button', { name: '👍 2' }))
    await user.click(screen.getByRole('button', { name: '🎉 1' }))

    expect(onToggle.mock.calls).toEqual([
      ['👍', false],
      ['🎉', true],
    ])
  })

  it('toggles from the keyboard too, and has a button to add another', async () => {
    const { onToggle, onAdd, user } = setup([reaction('👍', 'u2')])

    await user.tab()
    expect(document.activeElement).toBe(screen.getByRole('button', { name: '👍 1' }))
    await user.keyboard('{Enter}')
    expect(onToggle).toHaveBeenCalledExactlyOnceWith('👍', true)

    await user.tab()
    const add = screen.getByRole('button', { name: 'Add reaction' })
    expect(document.activeElement).toBe(add)
    expect(add.getAttribute('aria-haspopup')).toBe('dialog')
    await user.keyboard(' ')
    expect(onAdd).toHaveBeenCalledOnce()
  })

  it('lets Escape hide the tooltip until focus leaves', async () => {
    const { user } = setup([reaction('👍', 'u2'), reaction('🎉', 'u4')])

    await user.tab()
    const wrap = screen.getByRole('button', { name: '👍 1' }).parentElement!
    await user.keyboard('{Escape}')
    expect(wrap.classList.contains('tip-dismissed')).toBe(true)
    await user.tab()
    expect(wrap.classList.contains('tip-dismissed')).toBe(false)
  })

  it('is nothing without reactions', () => {
    setup([])
    expect(screen.queryByRole('group')).toBeNull()
    expect(screen.queryByRole('button')).toBeNull()
  })
})

describe('whoReacted', () => {
  it.each([
    [['u2'], 'Ann'],
    [['me'], 'You'],
    [['me', 'u2'], 'Ann and you'],
    [['u2', 'u3'], 'Ann and Bob'],
    [['u2', 'me', 'u3', 'u4'], 'Ann, Bob, Cy and you'],
    [[], ''],
  ])('%j reads %j', (ids, words) => {
    expect(whoReacted(ids, 'me', nameOf)).toBe(words)
  })

  it('names ten at most, then counts the rest', () => {
    const ids = Array.from({ length: 14 }, (_, i) => `x${i}`)
    expect(whoReacted(ids, 'me', (id) => id)).toBe(
      'x0, x1, x2, x3, x4, x5, x6, x7, x8 and 5 others',
    )
  })
})
