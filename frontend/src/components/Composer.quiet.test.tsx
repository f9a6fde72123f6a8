import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Silence } from '../api/types'
import type { SendOptions } from '../state/types'
import { Composer, type ComposerMember } from './Composer'
import { mentionedIds, type QuietPerson, quietSentence, refusedNote } from './quietNotice'

const bob: ComposerMember = { id: 'u2', username: 'bob', displayName: 'Bob' }
const carol: ComposerMember = { id: 'u3', username: 'carol', displayName: 'Carol' }

function silence(change: Partial<Silence> = {}): Silence {
  return { userId: 'u2', reason: 'quietHours', until: 1, untilLocal: '07:00', notifyAnyway: true, ...change }
}

describe('quietSentence', () => {
  it('says until when on their clock, or that it has no end', () => {
    expect(quietSentence({ name: 'Bob', silence: silence() })).toBe(
      'Bob is in quiet hours until 07:00 their time — they will see it then.',
    )
    expect(quietSentence({ name: 'Bob', silence: silence({ reason: 'doNotDisturb', untilLocal: '14:30' }) })).toBe(
      'Bob is in do not disturb until 14:30 their time — they will see it then.',
    )
    expect(
      quietSentence({ name: 'Bob', silence: silence({ reason: 'doNotDisturb', until: undefined, untilLocal: undefined }) }),
    ).toBe('Bob is in do not disturb — they will see it when they turn it off.')
  })

  it('names who would not be reached by notify anyway', () => {
    const people: QuietPerson[] = [
      { name: 'Bob', silence: silence() },
      { name: 'Carol', silence: silence({ userId: 'u3', notifyAnyway: false }) },
    ]
    expect(refusedNote(people)).toBe('Carol does not let messages break through.')
    expect(refusedNote(people.slice(0, 1))).toBe('')
  })
})

describe('mentionedIds', () => {
  it('reads mentions as the server does', () => {
    const members = [bob, carol]
    expect(mentionedIds('hi @bob and @Carol, and @bob again', members)).toEqual(['u2', 'u3'])
    expect(mentionedIds('ask @bob.', members)).toEqual(['u2'])
    expect(mentionedIds('mail bob@bob or @bobby or @nobody', members)).toEqual([])
  })
})

function setup(quiet: QuietPerson[] = []) {
  const onSend = vi.fn<(content: string, options?: SendOptions) => void>()
  const onMentionsChange = vi.fn<(ids: string[]) => void>()
  const props = { title: 'Bob', onSend, onTyped: () => {}, members: [bob, carol], onMentionsChange }
  const view = render(<Composer {...props} quiet={quiet} />)
  return {
    onSend,
    onMentionsChange,
    rerender: (q: QuietPerson[]) => view.rerender(<Composer {...props} quiet={q} />),
    box: screen.getByRole('textbox', { name: 'Message' }),
    user: userEvent.setup(),
  }
}

describe('Composer quiet notice', () => {
  it('says nothing while nobody is quiet', () => {
    setup()
    expect(screen.queryByText(/quiet hours/)).toBeNull()
    expect(screen.queryByRole('switch')).toBeNull()
  })

  it('says the peer is in quiet hours and sends with notify anyway when switched on, once', async () => {
    const { onSend, box, user } = setup([{ name: 'Bob', silence: silence() }])
    expect(screen.getByText(/Bob is in quiet hours until 07:00 their time/)).toBeDefined()
    const toggle = screen.getByRole('switch', { name: 'Notify anyway' })
    expect(toggle.getAttribute('aria-describedby')).toBeTruthy()
    expect(document.getElementById(toggle.getAttribute('aria-describedby')!)?.textContent).toContain('Bob is in quiet hours')
    // Announced politely when it appears.
    expect(toggle.closest('[aria-live="polite"]')).not.toBeNull()

    // Keyboard: Space toggles the focused switch.
    toggle.focus()
    await user.keyboard(' ')
    expect((toggle as HTMLInputElement).checked).toBe(true)
    await user.type(box, 'the build is red{Enter}')
    expect(onSend).toHaveBeenLastCalledWith('the build is red', { notifyAnyway: true })
    // A per-message choice: off again after sending.
    expect((toggle as HTMLInputElement).checked).toBe(false)
    await user.type(box, 'and one more{Enter}')
    expect(onSend).toHaveBeenLastCalledWith('and one more')
  })

  it('offers no switch when nobody quiet lets messages break through', () => {
    setup([{ name: 'Bob', silence: silence({ notifyAnyway: false }) }])
    expect(screen.getByText(/Bob is in quiet hours/)).toBeDefined()
    expect(screen.queryByRole('switch')).toBeNull()
  })

  it('does not send notify anyway once the person is no longer quiet', async () => {
    const { onSend, box, user, rerender } = setup([{ name: 'Bob', silence: silence() }])
    await user.click(screen.getByRole('switch', { name: 'Notify anyway' }))
    rerender([])
    await user.type(box, 'good morning{Enter}')
    expect(onSend).toHaveBeenLastCalledWith('good morning')
  })

  it('tells whom the draft mentions as it changes', async () => {
    const { onMentionsChange, box, user } = setup()
    await user.type(box, 'hey @carol ')
    expect(onMentionsChange).toHaveBeenLastCalledWith(['u3'])
    await user.clear(box)
    expect(onMentionsChange).toHaveBeenLastCalledWith([])
  })
})
