import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Avatar, isImageAvatar } from './Avatar'

describe('Avatar', () => {
  it('is an image only for an https URL', () => {
    const { container } = render(<Avatar avatar="https://cdn.example.com/bot.png" />)
    const img = container.querySelector('img')
    expect(img?.getAttribute('src')).toBe('https://cdn.example.com/bot.png')
    expect(img?.getAttribute('referrerpolicy')).toBe('no-referrer')
  })

  it.each([
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'data:image/svg+xml,<svg onload=alert(1)>',
    '//evil.com/x.png',
    'http://example.com/a.png',
    '/api/files/x',
    'https://user:pw@example.com/a.png',
    '🤖',
  ])('shows %s as text, never as an image source', (avatar) => {
    const { container } = render(<Avatar avatar={avatar} />)
    expect(container.querySelector('img')).toBeNull()
    expect(container.textContent).toBe(avatar)
    expect(isImageAvatar(avatar)).toBe(false)
  })

  it('renders nothing without an avatar', () => {
    const { container } = render(<Avatar avatar={undefined} />)
    expect(container.innerHTML).toBe('')
  })
})
