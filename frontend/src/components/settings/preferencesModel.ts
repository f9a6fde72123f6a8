// The settings form's logic without React: defaults, comparing drafts, do-not-disturb presets and
// how they read, time zones, and checking an imported file.
import type { NotificationKind, Preferences } from '../../api/types'
import { DEFAULT_TOAST_SECONDS } from '../../notifications/preferences'

/** Every kind, in the order the server lists them (backend.NotificationKinds). */
export const SETTINGS_KINDS: readonly NotificationKind[] = [
  'message',
  'mention',
  'reply',
  'task',
  'agent',
  'system',
  'file',
]

/** How the settings name each kind. */
export const SETTINGS_KIND_LABELS: Record<NotificationKind, string> = {
  message: 'Messages',
  mention: 'Mentions',
  reply: 'Thread replies',
  task: 'Tasks',
  agent: 'Agent status',
  system: 'System alerts',
  file: 'Files',
}

/** What the server starts every user with (backend.DefaultPreferences). */
export function defaultPreferences(): Preferences {
  return {
    sounds: true,
    volume: 0.7,
    native: true,
    criticalBreaksThrough: true,
    toastSeconds: DEFAULT_TOAST_SECONDS,
    breakThrough: 'off',
    soundByKind: {},
    kinds: {},
    mutedChats: [],
    doNotDisturb: null,
    quietHours: null,
  }
}

/** Fills what the server left out (Go's nil maps come as null) so the form can read every field. */
export function normalize(preferences: Preferences): Preferences {
  const defaults = defaultPreferences()
  return {
    ...defaults,
    ...preferences,
    soundByKind: { ...(preferences.soundByKind ?? {}) },
    kinds: { ...(preferences.kinds ?? {}) },
    mutedChats: [...(preferences.mutedChats ?? [])],
    doNotDisturb: preferences.doNotDisturb ?? null,
    quietHours: preferences.quietHours ?? null,
    toastSeconds: preferences.toastSeconds ?? DEFAULT_TOAST_SECONDS,
    breakThrough: preferences.breakThrough ?? 'off',
  }
}

/** Whether a and b mean the same settings (key order, absent vs null and default entries aside). */
export function samePreferences(a: Preferences, b: Preferences): boolean {
  return canonical(a) === canonical(b)
}

function canonical(preferences: Preferences): string {
  const p = normalize(preferences)
  const kinds = Object.fromEntries(
    SETTINGS_KINDS.filter((kind) => p.kinds[kind] === false).map((kind) => [kind, false]),
  )
  const sounds = Object.fromEntries(
    SETTINGS_KINDS.filter((kind) => p.soundByKind[kind]).map((kind) => [kind, p.soundByKind[kind]]),
  )
  return JSON.stringify([
    p.sounds,
    p.volume,
    p.native,
    p.criticalBreaksThrough,
    p.toastSeconds,
    p.breakThrough,
    sounds,
    kinds,
    [...p.mutedChats].sort(),
    p.doNotDisturb ? (p.doNotDisturb.until ? Date.parse(p.doNotDisturb.until) : 'on') : null,
    p.quietHours ? [p.quietHours.start, p.quietHours.end, p.quietHours.timeZone] : null,
  ])
}

/** What the settings offer for how long toasts stay (seconds; the server takes 2–60). */
export const TOAST_SECONDS_CHOICES: readonly number[] = [3, 6, 10, 20, 30, 60]

/** The choices, with current among them when it is another value (set elsewhere, e.g. 15). */
export function toastSecondsChoices(current: number): number[] {
  return TOAST_SECONDS_CHOICES.includes(current)
    ? [...TOAST_SECONDS_CHOICES]
    : [...TOAST_SECONDS_CHOICES, current].sort((a, b) => a - b)
}

export type DndPreset = 'hour' | 'morning' | 'indefinitely' | 'off'

/** The doNotDisturb value a preset sets at now (Unix ms): an hour from now, the next day's 08:00
 * on the local clock, until turned off ({}), or off (null). */
export function dndForPreset(preset: DndPreset, now: number): Preferences['doNotDisturb'] {
  switch (preset) {
    case 'hour':
      return { until: new Date(now + 60 * 60 * 1000).toISOString() }
    case 'morning': {
      const morning = new Date(now)
      morning.setDate(morning.getDate() + 1)
      morning.setHours(8, 0, 0, 0)
      return { until: morning.toISOString() }
    }
    case 'indefinitely':
      return {}
    case 'off':
      return null
  }
}

/** When do-not-disturb ends (Unix ms): null if it is off (or ended before now), Infinity if it
 * lasts until turned off. */
export function dndEnd(dnd: Preferences['doNotDisturb'], now: number): number | null {
  if (!dnd) return null
  if (dnd.until === undefined || dnd.until === '') return Infinity
  const until = Date.parse(dnd.until)
  if (Number.isNaN(until)) return Infinity
  return until > now ? until : null
}

/** "Do not disturb until 14:30", "… until Tue 2 Jun, 08:00", "… until you turn it off", or off. */
export function describeDnd(dnd: Preferences['doNotDisturb'], now: number): string {
  const end = dndEnd(dnd, now)
  if (end === null) return 'Do not disturb is off'
  if (end === Infinity) return 'Do not disturb until you turn it off'
  return `Do not disturb until ${formatWhen(end, now)}`
}

/** A time of day (24-hour, as the server words its reasons), with the day when it is not today. */
export function formatWhen(at: number, now: number): string {
  const time = new Date(at).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
  if (new Date(at).toDateString() === new Date(now).toDateString()) return time
  const day = new Date(at).toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  })
  return `${day}, ${time}`
}

/** Zones for the picker when the browser cannot list its own (Intl.supportedValuesOf). */
export const FALLBACK_TIME_ZONES: readonly string[] = [
  'UTC',
  'Africa/Cairo',
  'Africa/Johannesburg',
  'Africa/Lagos',
  'America/Anchorage',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Mexico_City',
  'America/New_York',
  'America/Sao_Paulo',
  'America/Toronto',
  'Asia/Dubai',
  'Asia/Hong_Kong',
  'Asia/Jakarta',
  'Asia/Kolkata',
  'Asia/Seoul',
  'Asia/Shanghai',
  'Asia/Singapore',
  'Asia/Tokyo',
  'Australia/Melbourne',
  'Australia/Sydney',
  'Europe/Berlin',
  'Europe/Istanbul',
  'Europe/London',
  'Europe/Madrid',
  'Europe/Moscow',
  'Europe/Paris',
  'Pacific/Auckland',
  'Pacific/Honolulu',
]

/** Every IANA zone the browser knows, or the fallback list; always including extra (the current
 * value and the browser's zone), sorted. */
export function timeZones(...extra: (string | undefined)[]): string[] {
  let zones: readonly string[] = FALLBACK_TIME_ZONES
  try {
    const listed = Intl.supportedValuesOf('timeZone')
    if (listed.length > 0) zones = listed
  } catch {
    // An older engine without Intl.supportedValuesOf.
  }
  const all = new Set(zones)
  for (const zone of extra) if (zone) all.add(zone)
  return [...all].sort((a, b) => a.localeCompare(b))
}

/** The browser's own IANA zone, or UTC if it does not say. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

/** What a settings file holds: preferences, or why it cannot be imported. */
export type ImportResult = { ok: true; preferences: Partial<Preferences> } | { ok: false; error: string }

/** Reads an exported settings file. The server validates the fields; this only checks that the
 * file is a JSON object. */
export function parseImport(text: string): ImportResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, error: 'The file is not valid JSON.' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'The file must hold a JSON object of settings.' }
  }
  // An export wrapped as the API answers it ({preferences: {…}}) imports as well.
  if ('preferences' in value && Object.keys(value).length === 1) {
    const inner = value.preferences
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
      return { ok: true, preferences: inner }
    }
  }
  return { ok: true, preferences: value }
}

/** The file an export downloads. */
export function exportJson(preferences: Preferences): string {
  return `${JSON.stringify(preferences, null, 2)}\n`
}

/** Whether s is a time like 22:00 (what the server accepts). */
export function validClock(s: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(s)
}
