// Notification sounds, synthesised with the Web Audio API (no files to load): a few short named
// sounds, a default per notification kind, and playFor(), which follows the server's decision and
// the user's preferences.
import type { Notification, NotificationKind, Preferences } from '../api/types'

export const SOUND_NAMES = ['chime', 'ping', 'pop', 'bell', 'alert', 'blip', 'none'] as const

export type SoundName = (typeof SOUND_NAMES)[number]

export function isSoundName(name: unknown): name is SoundName {
  return typeof name === 'string' && (SOUND_NAMES as readonly string[]).includes(name)
}

const DEFAULT_SOUNDS: Record<NotificationKind, SoundName> = {
  message: 'pop',
  mention: 'chime',
  reply: 'pop',
  task: 'bell',
  agent: 'blip',
  system: 'alert',
  file: 'ping',
}

/** The sound a kind plays when the user has not chosen one. */
export function defaultSoundFor(kind: NotificationKind): SoundName {
  return DEFAULT_SOUNDS[kind]
}

/** One tone of a sound: a frequency (Hz) from `at` seconds for `duration` seconds. */
interface Tone {
  frequency: number
  at: number
  duration: number
  type: OscillatorType
  /** A glide to this frequency over the tone. */
  to?: number
}

/** Each sound as tones; all under half a second. */
export const SOUND_TONES: Record<Exclude<SoundName, 'none'>, Tone[]> = {
  // Two rising sine notes (E6, A6).
  chime: [
    { frequency: 1318.5, at: 0, duration: 0.18, type: 'sine' },
    { frequency: 1760, at: 0.12, duration: 0.3, type: 'sine' },
  ],
  // One short high sine.
  ping: [{ frequency: 1568, at: 0, duration: 0.16, type: 'sine' }],
  // A quick downward triangle blob.
  pop: [{ frequency: 660, to: 330, at: 0, duration: 0.09, type: 'triangle' }],
  // A low bell with a fifth above, ringing longer.
  bell: [
    { frequency: 880, at: 0, duration: 0.45, type: 'sine' },
    { frequency: 1320, at: 0, duration: 0.3, type: 'sine' },
  ],
  // Three urgent square beeps.
  alert: [
    { frequency: 988, at: 0, duration: 0.08, type: 'square' },
    { frequency: 988, at: 0.12, duration: 0.08, type: 'square' },
    { frequency: 1319, at: 0.24, duration: 0.14, type: 'square' },
  ],
  // A tiny square tick.
  blip: [{ frequency: 1200, to: 1500, at: 0, duration: 0.05, type: 'square' }],
}

/** The parts of AudioContext the player uses (a fake one in tests). */
export interface AudioContextLike {
  readonly currentTime: number
  readonly state: string
  readonly destination: AudioNode
  resume(): Promise<void>
  createOscillator(): OscillatorNode
  createGain(): GainNode
}

export type AudioContextFactory = () => AudioContextLike | null

function browserAudioContext(): AudioContextLike | null {
  const Ctor =
    typeof window === 'undefined'
      ? undefined
      : (window.AudioContext ??
        (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext)
  return Ctor ? new Ctor() : null
}

/** Plays named sounds. The AudioContext is made on first use (browsers allow sound only after a
 * user gesture; until then play() may be silent, never an error). */
export class SoundPlayer {
  private readonly factory: AudioContextFactory
  private context: AudioContextLike | null | undefined

  constructor(factory: AudioContextFactory = browserAudioContext) {
    this.factory = factory
  }

  /** Plays the sound at volume 0..1; 'none', volume 0 or no audio support play nothing. */
  play(name: SoundName, volume: number): void {
    if (name === 'none' || !(volume > 0)) return
    const tones = SOUND_TONES[name] as Tone[] | undefined
    if (!tones) return
    const context = this.audio()
    if (!context) return
    if (context.state === 'suspended') void context.resume().catch(() => {})
    const level = Math.min(1, volume) * 0.35 // full volume is loud for synthesised tones
    const start = context.currentTime + 0.01
    for (const tone of tones) {
      const oscillator = context.createOscillator()
      const gain = context.createGain()
      const at = start + tone.at
      const end = at + tone.duration
      oscillator.type = tone.type
      oscillator.frequency.setValueAtTime(tone.frequency, at)
      if (tone.to !== undefined) oscillator.frequency.exponentialRampToValueAtTime(tone.to, end)
      gain.gain.setValueAtTime(0.0001, at)
      gain.gain.exponentialRampToValueAtTime(level, at + 0.01)
      gain.gain.exponentialRampToValueAtTime(0.0001, end)
      oscillator.connect(gain)
      gain.connect(context.destination)
      oscillator.start(at)
      oscillator.stop(end + 0.02)
    }
  }

  /**
   * Plays the notification's sound as the preferences say: nothing when the server decided it is
   * silent (notify false), sounds are off, the volume is 0 or the kind's sound is 'none'. Returns
   * the sound played, or null.
   */
  playFor(notification: Pick<Notification, 'type' | 'notify'>, preferences: Preferences | null): SoundName | null {
    if (!notification.notify || !preferences?.sounds || !(preferences.volume > 0)) return null
    const chosen = preferences.soundByKind[notification.type]
    const name = isSoundName(chosen) ? chosen : defaultSoundFor(notification.type)
    if (name === 'none') return null
    this.play(name, preferences.volume)
    return name
  }

  private audio(): AudioContextLike | null {
    if (this.context === undefined) {
      try {
        this.context = this.factory()
      } catch {
        this.context = null
      }
    }
    return this.context
  }
}
