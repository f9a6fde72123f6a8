import { describe, expect, it } from 'vitest'
import { fingerprintFromLink, parseFingerprint } from './fingerprint'

const FP = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89'

describe('parseFingerprint', () => {
  it('accepts the colon form in any case and the bare hex, and answers the colon form', () => {
    expect(parseFingerprint(FP)).toBe(FP)
    expect(parseFingerprint(FP.toUpperCase())).toBe(FP)
    expect(parseFingerprint(FP.replaceAll(':', ''))).toBe(FP)
    expect(parseFingerprint(` ${FP}\n`)).toBe(FP)
  })

  it('refuses anything else', () => {
    for (const bad of ['', 'ab:cd', FP.slice(0, -3), `${FP}:00`, FP.replace('a', 'g'), `a:bc${FP.slice(4)}`]) {
      expect(parseFingerprint(bad)).toBeNull()
    }
  })
})

describe('fingerprintFromLink', () => {
  it('reads #sha256= from an invite link or a location hash', () => {
    expect(fingerprintFromLink(`https://192.168.1.20:7878/join/CODE#sha256=${FP}`)).toBe(FP)
    expect(fingerprintFromLink(`#sha256=${FP.toUpperCase()}`)).toBe(FP)
  })

  it('is null without a fingerprint or with a damaged one', () => {
    expect(fingerprintFromLink('https://chat.example.com/join/CODE')).toBeNull()
    expect(fingerprintFromLink('')).toBeNull()
    expect(fingerprintFromLink('#other=1')).toBeNull()
    expect(fingerprintFromLink('https://x/join/CODE#sha256=ab:cd')).toBeNull()
  })
})
