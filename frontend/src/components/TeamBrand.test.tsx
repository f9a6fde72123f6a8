import { fireEvent, render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { TeamSettings } from '../api/types'
import { TeamBrand, teamIconSrc } from './TeamBrand'

const acme: TeamSettings = { name: 'Acme Rockets', channelCreation: 'everyone' }

describe('TeamBrand', () => {
  it('shows the team’s name with its initials on a square when it has no icon', () => {
    const { container } = render(<TeamBrand team={acme} />)

    expect(screen.getByText('Acme Rockets')).toBeDefined()
    const square = container.querySelector('.team-initials')
    expect(square?.getAttribute('data-initials')).toBe('AR')
    expect(square?.getAttribute('aria-hidden')).toBe('true')
    expect(container.querySelector('img')).toBeNull()
  })

  it('shows the uploaded icon at 64 px, and follows a new name and icon', () => {
    const { container, rerender } = render(<TeamBrand team={acme} />)
    rerender(<TeamBrand team={{ ...acme, name: 'Acme', iconUrl: '/api/team/icon?v=3' }} />)

    const img = container.querySelector('img')
    expect(img?.getAttribute('src')).toBe('/api/team/icon?v=3&size=64')
    expect(img?.getAttribute('alt')).toBe('')
    expect(container.textContent).toBe('Acme')
  })

  it('falls back to the initials when the icon does not load', () => {
    const { container } = render(<TeamBrand team={{ ...acme, iconUrl: 'https://example.com/acme.png' }} />)
    fireEvent.error(container.querySelector('img') as HTMLImageElement)

    expect(container.querySelector('img')).toBeNull()
    expect(container.querySelector('.team-initials')?.getAttribute('data-initials')).toBe('AR')
  })

  it('uses only the server’s icon path or an https URL', () => {
    expect(teamIconSrc('https://example.com/a.png', 256)).toBe('https://example.com/a.png')
    expect(teamIconSrc('/api/team/icon?v=1', 256)).toBe('/api/team/icon?v=1&size=256')
    expect(teamIconSrc('javascript:alert(1)', 64)).toBeNull()
    expect(teamIconSrc('http://example.com/a.png', 64)).toBeNull()
    expect(teamIconSrc(undefined, 64)).toBeNull()
  })
})
