// TLS certificate fingerprints as Herald writes them (backend/tlscert): the SHA-256 of the
// server's certificate, lowercase hex, the 32 bytes separated by colons. Invite links of a
// server with a self-signed certificate carry it as #sha256=…; the join page shows it for the
// invited person to compare with what their admin sees, and the desktop app pins it.

/** The fingerprint in Herald's form, from 64 hex digits with or without colons; null otherwise. */
export function parseFingerprint(input: string): string | null {
  const trimmed = input.trim().toLowerCase()
  const withColons = /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/.test(trimmed)
  const plain = /^[0-9a-f]{64}$/.test(trimmed)
  if (!withColons && !plain) return null
  const hex = trimmed.replaceAll(':', '')
  return hex.match(/../g)?.join(':') ?? null
}

/**
 * The fingerprint an invite link carries in its fragment (#sha256=…), from a whole link or
 * just its hash ('#sha256=…'); null when it has none or a damaged one.
 */
export function fingerprintFromLink(linkOrHash: string): string | null {
  const hash = linkOrHash.includes('#') ? linkOrHash.slice(linkOrHash.indexOf('#') + 1) : ''
  const value = new URLSearchParams(hash).get('sha256')
  return value === null ? null : parseFingerprint(value)
}
