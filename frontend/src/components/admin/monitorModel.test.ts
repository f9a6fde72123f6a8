import { describe, expect, it } from 'vitest'
import { summarize } from './MonitorChart'
import { bytes, duration, fewer, millis } from './monitorModel'

describe('monitor numbers', () => {
  it('reads for people', () => {
    expect(bytes(950)).toBe('950 B')
    expect(bytes(12_345)).toBe('12.3 kB')
    expect(millis(0.423)).toBe('0.42 ms')
    expect(millis(1234)).toBe('1.2 s')
    expect(duration(3725)).toBe('1 h 2 min')
    expect(duration(90_000)).toBe('1 d 1 h')
  })

  it('tells a ratio only when there is one', () => {
    expect(fewer(0)).toBe('')
    expect(fewer(120.4)).toBe('120× fewer')
    expect(fewer(1.14)).toBe('1.1× fewer')
    expect(fewer(0.5)).toBe('2× more')
  })

  it('summarizes a chart in words, and says when there is nothing yet', () => {
    expect(summarize([], [], String)).toBe('No minutes recorded yet.')
    expect(summarize([1, 2], [{ label: 'Streams', color: '--accent', values: [3, 1] }], String)).toBe(
      'Streams: from 1 to 3, latest 1. 2 minutes.',
    )
  })
})
