import { act, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { User } from '../api/types'
import { MemberList } from './MemberList'
import { ProfileCard, ProfilePopover } from './ProfileCard'
import { member } from './testFakes'

const bob: User & { online: boolean } = {
  id: 'u2',
  username: 'bob',
  displayName: 'Bob Builder',
  role: 'member',
  createdAt: 0,
  status: 'away',
  online: true,
  statusText: 'In a meeting',
  statusEmoji: '📅',
  avatarUrl: '/api/users/u2/avatar?v=3',
  avatarVersion: 3,
  avatarColor: '#1d4ed8',
}

afterEach(() => {
  vi.useRealTimers()
})

describe('ProfileCard', () => {
  it('shows the big avatar, name, username, presence and status', () => {
    const { container } = render(<ProfileCard user={bob} headingId="h" />)
    expect(screen.getByRole('heading', { name: 'Bob Builder' }).id).toBe('h')
    expect(screen.getByText('@bob')).toBeTruthy()
    expect(screen.getByText('Away')).toBeTruthy()
    expect(screen.getByText('In a meeting')).toBeTruthy()
    expect(container.querySelector('img')?.getAttribute('src')).toBe('/api/users/u2/avatar?v=3&size=256')
    expect(container.querySelector('.pm-away')).not.toBeNull()
  })

  it('hides the status when it expires, without waiting for the server', () => {
    vi.useFakeTimers()
    vi.setSystemTime(1_000_000)
    render(<ProfileCard user={{ ...bob, statusExpiresAt: 1_060_000 }} />)
    expect(screen.getByText('In a meeting')).toBeTruthy()
    act(() => {
      vi.advanceTimersByTime(61_000)
    })
    expect(screen.queryByText('In a meeting')).toBeNull()
  })

  it('as a popover takes focus, closes on Escape and gives focus back', () => {
    const opener = document.createElement('button')
    document.body.append(opener)
    const onClose = vi.fn()
    render(<ProfilePopover user={bob} anchor={opener} onClose={onClose} />)
    const dialog = screen.getByRole('dialog', { name: 'Bob Builder' })
    expect(document.activeElement).toBe(dialog)
    fireEvent.keyDown(dialog, { key: 'Escape' })
    expect(onClose).toHaveBeenCalled()
    fireEvent.click(screen.getByRole('button', { name: 'Close profile' }))
    expect(onClose).toHaveBeenCalledTimes(2)
    opener.remove()
  })
})

describe('MemberList', () => {
  it('names each member "name, presence" and adds an active status', () => {
    render(
      <MemberList
        members={[
          { ...member('u2', 'bob', true), status: 'away', statusEmoji: '🌴', statusText: 'Holiday' },
          member('u3', 'carol', true),
          member('u4', 'dan', false),
          { ...member('u5', 'eve', true), status: 'busy' },
        ]}
      />,
    )
    const items = screen.getAllByRole('listitem').map((li) => li.textContent)
    expect(items).toEqual(['bob, away🌴, Holiday', 'carol, online', 'eve, busy', 'dan, offline'])
  })
})
