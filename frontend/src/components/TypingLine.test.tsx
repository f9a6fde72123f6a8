import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { TypingLine } from './TypingLine'

describe('TypingLine', () => {
  it('is a polite live region that exists even when nobody types', () => {
    const { rerender } = render(<TypingLine names={[]} />)
    const line = screen.getByText('', { selector: '.typing' })
    expect(line.getAttribute('aria-live')).toBe('polite')

    rerender(<TypingLine names={['Alice', 'Bob']} />)
    expect(line.textContent).toBe('Alice and Bob are typing…')
  })
})
