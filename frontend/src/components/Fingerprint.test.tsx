import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Fingerprint } from './Fingerprint'

const fp = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89'

describe('Fingerprint', () => {
  it('shows the fingerprint unchanged, with a line break allowed after each colon only', () => {
    const { container } = render(<Fingerprint value={fp} />)
    const code = container.querySelector('code.fingerprint')

    expect(code?.textContent).toBe(fp)
    const breaks = [...(code?.querySelectorAll('wbr') ?? [])]
    expect(breaks).toHaveLength(31)
    for (const wbr of breaks) expect(wbr.previousSibling?.textContent).toMatch(/:$/)
  })
})
