import { describe, expect, it } from 'vitest'
import type { Preferences } from '../../api/types'
import {
  describeDnd,
  dndForPreset,
  FALLBACK_TIME_ZONES,
  normalize,
  parseImport,
  samePreferences,
  timeZones,
  toastSecondsChoices,
  validClock,
} from './preferencesModel'

describe('dndForPreset', () => {
  const now = new Date(2026, 0, 31, 23, 30).getTime() // the last evening of January, local time

  it('ends an hour from now', () => {
    expect(dndForPreset('hour', now)).toEqual({ until: new Date(now + 3_600_000).toISOString() })
  })

  it('ends at 08:00 local time on the next day, across a month end', () => {
    expect(dndForPreset('morning', now)).toEqual({ until: new Date(2026, 1, 1, 8, 0).toISOString() })
  })

  it('lasts until turned off, or is off', () => {
    expect(dndForPreset('indefinitely', now)).toEqual({})
    expect(dndForPreset('off', now)).toBeNull()
  })
})

describe('describeDnd', () => {
  const now = new Date(2026, 5, 1, 12, 0).getTime()

  it.each([
    [null, 'Do not disturb is off'],
    [undefined, 'Do not disturb is off'],
    [{}, 'Do not disturb until you turn it off'],
    [{ until: new Date(2026, 5, 1, 14, 30).toISOString() }, 'Do not disturb until 14:30'],
    [{ until: new Date(2026, 5, 1, 11, 59).toISOString() }, 'Do not disturb is off'],
  ])('%j', (dnd, text) => {
    expect(describeDnd(dnd, now)).toBe(text)
  })

  it('names the day when it ends on another', () => {
    expect(describeDnd({ until: new Date(2026, 5, 2, 8, 0).toISOString() }, now)).toMatch(/2.*08:00$/)
  })
})

describe('parseImport', () => {
  it('takes an object, or the API’s {preferences} wrapper', () => {
    expect(parseImport('{"sounds": false}')).toEqual({ ok: true, preferences: { sounds: false } })
    expect(parseImport('{"preferences": {"volume": 0.5}}')).toEqual({ ok: true, preferences: { volume: 0.5 } })
  })

  it.each(['[]', '1', 'null', 'true', '', '{'])('refuses %j', (text) => {
    expect(parseImport(text).ok).toBe(false)
  })
})

describe('samePreferences', () => {
  const base = normalize({
    sounds: true,
    volume: 0.7,
    native: true,
    criticalBreaksThrough: true,
    toastSeconds: 6,
    breakThrough: 'off',
    soundByKind: {},
    kinds: {},
    mutedChats: ['b', 'a'],
  })

  it('ignores what does not change the meaning', () => {
    expect(samePreferences(base, { ...base, kinds: { message: true }, mutedChats: ['a', 'b'] })).toBe(true)
    expect(samePreferences(base, { ...base, doNotDisturb: undefined, quietHours: null })).toBe(true)
  })

  it('sees real changes', () => {
    expect(samePreferences(base, { ...base, kinds: { message: false } })).toBe(false)
    expect(samePreferences(base, { ...base, doNotDisturb: {} })).toBe(false)
    expect(samePreferences(base, { ...base, volume: 0.75 })).toBe(false)
    expect(samePreferences(base, { ...base, toastSeconds: 10 })).toBe(false)
  })

  it('takes a missing toastSeconds (an older server) for the default', () => {
    const rest: Partial<Preferences> = { ...base }
    delete rest.toastSeconds
    expect(normalize(rest as Preferences).toastSeconds).toBe(6)
    expect(samePreferences(base, rest as Preferences)).toBe(true)
  })
})

describe('toastSecondsChoices', () => {
  it('offers the usual durations, in whole seconds within the server’s 2–60', () => {
    expect(toastSecondsChoices(6)).toEqual([3, 6, 10, 20, 30, 60])
    for (const s of toastSecondsChoices(6)) {
      expect(Number.isInteger(s) && s >= 2 && s <= 60).toBe(true)
    }
  })

  it('keeps a value set elsewhere among them, in order', () => {
    expect(toastSecondsChoices(15)).toEqual([3, 6, 10, 15, 20, 30, 60])
    expect(toastSecondsChoices(2)).toEqual([2, 3, 6, 10, 20, 30, 60])
  })
})

describe('time zones and clocks', () => {
  it('lists the browser’s zones, with the current value even if unknown', () => {
    const zones = timeZones('Etc/Unlisted')
    expect(zones).toContain('Europe/Berlin')
    expect(zones).toContain('Etc/Unlisted')
    expect(FALLBACK_TIME_ZONES).toContain('UTC')
  })

  it.each([
    ['22:00', true],
    ['07:05', true],
    ['23:59', true],
    ['24:00', false],
    ['7:00', false],
    ['', false],
  ])('%s valid: %s', (s, ok) => {
    expect(validClock(s)).toBe(ok)
  })
})
