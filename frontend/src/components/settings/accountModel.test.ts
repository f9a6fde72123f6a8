import { describe, expect, it } from 'vitest'
import { avatarErrorMessage, avatarFileProblem, sessionTime, statusExpiresAt } from './accountModel'

describe('statusExpiresAt', () => {
  // Wednesday 2 December 2026, 14:30 local time.
  const now = new Date(2026, 11, 2, 14, 30).getTime()

  it.each([
    ['never', null],
    ['30m', now + 30 * 60_000],
    ['1h', now + 60 * 60_000],
    ['today', new Date(2026, 11, 3).getTime()],
    ['week', new Date(2026, 11, 7).getTime()],
  ] as const)('%s', (preset, expected) => {
    expect(statusExpiresAt(preset, now)).toBe(expected)
  })

  it('this week on a Sunday ends that night, on a Monday in a week', () => {
    expect(statusExpiresAt('week', new Date(2026, 11, 6, 10).getTime())).toBe(new Date(2026, 11, 7).getTime())
    expect(statusExpiresAt('week', new Date(2026, 11, 7, 10).getTime())).toBe(new Date(2026, 11, 14).getTime())
  })
})

describe('avatar checks', () => {
  it('takes PNG, JPEG and GIF up to 5 MiB', () => {
    expect(avatarFileProblem({ type: 'image/png', size: 5 << 20 })).toBeNull()
    expect(avatarFileProblem({ type: 'image/gif', size: 10 })).toBeNull()
    expect(avatarFileProblem({ type: 'image/png', size: (5 << 20) + 1 })).toMatch(/larger than 5 MB/)
    expect(avatarFileProblem({ type: 'image/webp', size: 10 })).toMatch(/PNG, JPEG or GIF/)
    expect(avatarFileProblem({ type: 'image/svg+xml', size: 10 })).toMatch(/PNG, JPEG or GIF/)
  })

  it('says what the server refused', () => {
    const body = (message: string) => ({ error: { code: 'x', message } })
    expect(avatarErrorMessage(413, body('Images are limited to 5 MiB.'))).toBe('The image is too large: Images are limited to 5 MiB.')
    expect(avatarErrorMessage(413, undefined)).toBe('The image is too large (at most 5 MB).')
    expect(avatarErrorMessage(415, undefined)).toMatch(/not an image the server reads/)
    expect(avatarErrorMessage(400, body('broken PNG'))).toBe('The image could not be read: broken PNG')
    expect(avatarErrorMessage(500, undefined)).toBe('The upload failed (HTTP 500).')
  })
})

describe('sessionTime', () => {
  const now = Date.parse('2026-12-02T15:00:00Z')
  it.each([
    ['2026-12-02T14:59:40Z', 'just now'],
    ['2026-12-02T14:45:00Z', '15 min ago'],
    ['2026-12-02T12:00:00Z', '3 h ago'],
    [undefined, 'never'],
  ])('%s', (iso, expected) => {
    expect(sessionTime(iso, now)).toBe(expected)
  })
})
