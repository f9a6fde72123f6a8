// The signed-in user's notification preferences as this client knows them: loaded from
// GET /api/preferences, replaced by PREFERENCES_CHANGED (a change on any of the user's devices),
// saved with PUT. Sounds and browser notifications read them; the settings panel edits them.
import type { Event, Preferences } from '../api/types'
import type { EventStream } from '../stream/types'

export interface PreferencesApi {
  getPreferences(): Promise<Preferences>
  putPreferences(preferences: Preferences): Promise<Preferences>
}

/** The server's default and range of toastSeconds (backend DefaultToastSeconds, Min…, Max…). */
export const DEFAULT_TOAST_SECONDS = 6
export const MIN_TOAST_SECONDS = 2
export const MAX_TOAST_SECONDS = 60

/** The server's defaults (backend DefaultPreferences), used until the real ones load. */
export const DEFAULT_PREFERENCES: Preferences = {
  sounds: true,
  volume: 0.7,
  native: true,
  criticalBreaksThrough: true,
  toastSeconds: DEFAULT_TOAST_SECONDS,
  breakThrough: 'off',
  soundByKind: {},
  kinds: {},
  mutedChats: [],
}

/** How long toasts stay (ms) by the preferences: toastSeconds, the default when it is missing or
 * not a number, clamped to what the server accepts. */
export function toastDurationMs(preferences: Pick<Preferences, 'toastSeconds'> | null): number {
  const seconds = preferences?.toastSeconds
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return DEFAULT_TOAST_SECONDS * 1000
  return Math.min(MAX_TOAST_SECONDS, Math.max(MIN_TOAST_SECONDS, Math.round(seconds))) * 1000
}

export interface PreferencesSnapshot {
  /** What the server last said; null until loaded. */
  preferences: Preferences | null
  loading: boolean
  /** Why loading failed (saving rejects instead). */
  error: string | null
}

export class PreferencesStore {
  private readonly api: PreferencesApi
  private readonly stream: EventStream | null
  private snapshot: PreferencesSnapshot = { preferences: null, loading: false, error: null }
  private readonly listeners = new Set<() => void>()
  private unsubscribe: (() => void) | null = null
  /** Bumped by every newer source of truth, so a slow GET cannot overwrite a pushed change. */
  private version = 0

  constructor(api: PreferencesApi, stream: EventStream | null = null) {
    this.api = api
    this.stream = stream
  }

  /** The current preferences, or null before they loaded. */
  get(): Preferences | null {
    return this.snapshot.preferences
  }

  getSnapshot(): PreferencesSnapshot {
    return this.snapshot
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Follows PREFERENCES_CHANGED and loads the preferences. Restartable. */
  start(): Promise<void> {
    if (this.stream && this.unsubscribe === null) {
      this.unsubscribe = this.stream.onEvent((event) => this.handleEvent(event))
    }
    return this.load()
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  handleEvent(event: Event): void {
    if (event.type === 'PREFERENCES_CHANGED' && event.preferences) this.apply(event.preferences)
    // A gap in the stream may have hidden a change.
    else if (event.type === 'RESYNC') void this.load()
  }

  async load(): Promise<void> {
    const version = ++this.version
    this.publish({ loading: true, error: null })
    try {
      const preferences = await this.api.getPreferences()
      if (version !== this.version) return
      this.publish({ preferences: normalize(preferences), loading: false })
    } catch (err) {
      if (version !== this.version) return
      this.publish({ loading: false, error: err instanceof Error ? err.message : String(err) })
    }
  }

  /** PUTs the whole object; on success applies what the server stored (it rejects with the
   * server's error otherwise, e.g. 400 for an unknown time zone, and nothing changes). */
  async save(preferences: Preferences): Promise<Preferences> {
    const stored = normalize(await this.api.putPreferences(preferences))
    this.apply(stored)
    return stored
  }

  /** Takes preferences pushed by the server. */
  apply(preferences: Preferences): void {
    this.version++
    this.publish({ preferences: normalize(preferences), loading: false, error: null })
  }

  private publish(change: Partial<PreferencesSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change }
    for (const listener of [...this.listeners]) listener()
  }
}

/** Fills what the server may leave out (null maps and lists). */
function normalize(p: Preferences): Preferences {
  return {
    ...DEFAULT_PREFERENCES,
    ...p,
    soundByKind: p.soundByKind ?? {},
    kinds: p.kinds ?? {},
    mutedChats: p.mutedChats ?? [],
    toastSeconds: p.toastSeconds ?? DEFAULT_TOAST_SECONDS,
  }
}
