import { describe, expect, it, vi } from 'vitest'
import type { NotificationKind } from '../api/types'
import { defaultSoundFor, SOUND_NAMES, SOUND_TONES, SoundPlayer, type AudioContextLike } from './sounds'
import { prefs } from './testing'

/** An AudioContext that records the oscillators and gain levels it was asked for. */
class FakeAudioContext implements AudioContextLike {
  currentTime = 10
  state = 'running'
  readonly destination = {} as AudioNode
  readonly oscillators: { type: string; frequencies: number[]; started: boolean }[] = []
  readonly peaks: number[] = []
  resume = vi.fn(() => Promise.resolve())

  createOscillator(): OscillatorNode {
    const record = { type: '', frequencies: [] as number[], started: false }
    this.oscillators.push(record)
    const node = {
      set type(value: string) {
        record.type = value
      },
      frequency: {
        setValueAtTime: (value: number) => record.frequencies.push(value),
        exponentialRampToValueAtTime: (value: number) => record.frequencies.push(value),
      },
      connect: () => {},
      start: () => {
        record.started = true
      },
      stop: () => {},
    }
    return node as unknown as OscillatorNode
  }

  createGain(): GainNode {
    const levels: number[] = []
    this.peaks.push(0)
    const index = this.peaks.length - 1
    const node = {
      gain: {
        setValueAtTime: () => {},
        exponentialRampToValueAtTime: (value: number) => {
          levels.push(value)
          this.peaks[index] = Math.max(...levels)
        },
      },
      connect: () => {},
    }
    return node as unknown as GainNode
  }
}

function player() {
  const context = new FakeAudioContext()
  const factory = vi.fn(() => context)
  return { sounds: new SoundPlayer(factory), context, factory }
}

describe('sounds', () => {
  it('names the sounds the settings offer, with a different default per kind', () => {
    expect(SOUND_NAMES).toEqual(['chime', 'ping', 'pop', 'bell', 'alert', 'blip', 'none'])
    const kinds: NotificationKind[] = ['message', 'mention', 'task', 'agent', 'system', 'file']
    const defaults = kinds.map(defaultSoundFor)
    expect(new Set(defaults).size).toBe(kinds.length)
    expect(defaults).not.toContain('none')
  })

  it('plays each sound as its own tones', () => {
    const signatures = new Set<string>()
    for (const name of SOUND_NAMES) {
      const { sounds, context } = player()
      sounds.play(name, 1)
      if (name === 'none') {
        expect(context.oscillators).toHaveLength(0)
        continue
      }
      expect(context.oscillators).toHaveLength(SOUND_TONES[name].length)
      expect(context.oscillators.every((o) => o.started)).toBe(true)
      signatures.add(JSON.stringify(context.oscillators.map((o) => [o.type, o.frequencies])))
    }
    expect(signatures.size).toBe(SOUND_NAMES.length - 1)
  })

  it('applies the volume to the gain', () => {
    const loud = player()
    loud.sounds.play('ping', 1)
    const quiet = player()
    quiet.sounds.play('ping', 0.25)
    expect(quiet.context.peaks[0]).toBeCloseTo(loud.context.peaks[0]! / 4)
    expect(loud.context.peaks[0]).toBeLessThanOrEqual(1)
  })

  it('resumes a suspended context and makes it only once', () => {
    const { sounds, context, factory } = player()
    context.state = 'suspended'
    sounds.play('pop', 0.5)
    sounds.play('pop', 0.5)
    expect(context.resume).toHaveBeenCalled()
    expect(factory).toHaveBeenCalledTimes(1)
  })

  it('is silent without Web Audio', () => {
    const sounds = new SoundPlayer(() => null)
    expect(() => sounds.play('chime', 1)).not.toThrow()
  })

  describe('playFor', () => {
    it('plays the kind’s default sound at the preferred volume', () => {
      const { sounds, context } = player()
      expect(sounds.playFor({ type: 'mention', notify: true }, prefs({ volume: 0.5 }))).toBe('chime')
      expect(context.oscillators.map((o) => o.frequencies[0])).toEqual(SOUND_TONES.chime.map((t) => t.frequency))
    })

    it('plays the sound chosen for the kind', () => {
      const { sounds } = player()
      expect(sounds.playFor({ type: 'task', notify: true }, prefs({ soundByKind: { task: 'blip' } }))).toBe('blip')
      // An unknown name (from a newer client) falls back to the default.
      expect(sounds.playFor({ type: 'task', notify: true }, prefs({ soundByKind: { task: 'kazoo' } }))).toBe('bell')
    })

    it.each([
      ['the server decided silence', { type: 'message' as const, notify: false }, prefs()],
      ['sounds are off', { type: 'message' as const, notify: true }, prefs({ sounds: false })],
      ['the volume is 0', { type: 'message' as const, notify: true }, prefs({ volume: 0 })],
      ['the kind’s sound is none', { type: 'message' as const, notify: true }, prefs({ soundByKind: { message: 'none' } })],
      ['preferences are not loaded', { type: 'message' as const, notify: true }, null],
    ])('plays nothing when %s', (_, notification, preferences) => {
      const { sounds, context } = player()
      expect(sounds.playFor(notification, preferences)).toBeNull()
      expect(context.oscillators).toHaveLength(0)
    })
  })
})
