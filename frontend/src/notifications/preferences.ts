// The signed-in user's notification preferences as this client knows them: loaded from
// GET /api/preferences, replaced by PREFERENCES_CHANGED (a change on any of the user's devices),
// saved with PUT. Sounds and browser notifications read them; the settings panel edits them.
import type { Event, Preferences } from '../api/types'
import type { EventStream } from '../stream/types'

export interface PreferencesApi {
  getPreferences(): Promise<Preferences>
  putPreferences(preferences: Preferences): Promise<Preferences>
}

/** The server's defaults (backend DefaultPreferences), used until the real ones load. */
export const DEFAULT_PREFERENCES: Preferences = {
  sounds: true,
  volume: 0.7,
  native: true,
  criticalBreaksThrough: true,
  soundByKind: {},
  kinds: {},
  mutedChats: [],
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
  }
}
