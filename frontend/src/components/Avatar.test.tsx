import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { activeStatus, Avatar, avatarSrc, initials, isImageAvatar, PresenceMarker, presenceOf } from './Avatar'

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

describe('Avatar of a person', () => {
  const base = { id: 'u 1', username: 'ada', displayName: 'Ada Lovelace', role: 'member' as const, createdAt: 0 }

  it('draws the uploaded picture at 64 px for small sizes and 256 for large, with its version', () => {
    const user = { ...base, avatarUrl: '/api/users/u%201/avatar?v=7', avatarVersion: 7 }
    const { container, rerender } = render(<Avatar user={user} size={20} />)
    expect(container.querySelector('img')?.getAttribute('src')).toBe('/api/users/u%201/avatar?v=7&size=64')
    expect(container.querySelector('img')?.getAttribute('alt')).toBe('')
    rerender(<Avatar user={user} size={96} />)
    expect(container.querySelector('img')?.getAttribute('src')).toBe('/api/users/u%201/avatar?v=7&size=256')
  })

  it('never uses an avatarUrl that is not the server path', () => {
    const user = { ...base, avatarUrl: 'javascript:alert(1)' }
    const { container } = render(<Avatar user={user} />)
    expect(container.querySelector('img')).toBeNull()
    expect(avatarSrc({ id: 'u1', avatarUrl: 'https://evil.example/x.png', avatarVersion: 3 }, 64)).toBe(
      '/api/users/u1/avatar?v=3&size=64',
    )
  })

  it('without a picture shows the initials on the avatar colour, kept out of the text', () => {
    const { container } = render(<Avatar user={{ ...base, avatarColor: '#15803d' }} />)
    const span = container.querySelector('.initials') as HTMLElement
    expect(span.dataset.initials).toBe('AL')
    expect(span.style.background).toContain('rgb(21, 128, 61)')
    expect(container.textContent).toBe('')
    expect(span.getAttribute('aria-hidden')).toBe('true')
  })

  it.each([
    ['Ada Lovelace', 'AL'],
    ['bob', 'B'],
    ['  émile  zola  ', 'ÉZ'],
    ['', '?'],
    ['😀 Party', '😀P'],
  ])('initials of %j are %j', (name, expected) => {
    expect(initials(name)).toBe(expected)
  })
})

describe('presence', () => {
  it('draws a different shape for each state', () => {
    const shapes = (['online', 'away', 'busy', 'offline'] as const).map((status) => {
      const { container } = render(<PresenceMarker status={status} />)
      return container.querySelector('svg')?.innerHTML
    })
    expect(new Set(shapes).size).toBe(4)
  })

  it('reads a missing status from online', () => {
    expect(presenceOf({ online: true })).toBe('online')
    expect(presenceOf({ online: false })).toBe('offline')
    expect(presenceOf({ status: 'away', online: true })).toBe('away')
  })

  it('a status line whose expiry passed is not active', () => {
    expect(activeStatus({ statusText: 'Lunch', statusExpiresAt: 1000 }, 999)).toEqual({ text: 'Lunch', emoji: '' })
    expect(activeStatus({ statusText: 'Lunch', statusExpiresAt: 1000 }, 1000)).toBeNull()
    expect(activeStatus({ statusEmoji: '🌴' }, 5)).toEqual({ text: '', emoji: '🌴' })
    expect(activeStatus({}, 5)).toBeNull()
  })
})
