import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { formatTyping, TypingLine } from './TypingLine'

describe('formatTyping', () => {
  it.each([
    [[], ''],
    [['Alice'], 'Alice is typing…'],
    [['Alice', 'Bob'], 'Alice and Bob are typing…'],
    [['Alice', 'Bob', 'Carol'], 'Alice, Bob and Carol are typing…'],
    [['Alice', 'Bob', 'Carol', 'Dan'], 'Several people are typing…'],
  ])('%j → "%s"', (names, text) => {
    expect(formatTyping(names)).toBe(text)
  })
})

describe('TypingLine', () => {
  it('is a polite live region that exists even when nobody types', () => {
    const { rerender } = render(<TypingLine names={[]} />)
    const line = screen.getByText('', { selector: '.typing' })
    expect(line.getAttribute('aria-live')).toBe('polite')

    rerender(<TypingLine names={['Alice', 'Bob']} />)
    expect(line.textContent).toBe('Alice and Bob are typing…')
  })
})
