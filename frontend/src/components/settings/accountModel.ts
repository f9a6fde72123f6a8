// What the account settings compute without React: status expiry presets, avatar upload over
// XMLHttpRequest (fetch cannot report upload progress) and the words for its refusals.
import { MAX_AVATAR_UPLOAD, type User } from '../../api/types'

export type StatusExpiry = 'never' | '30m' | '1h' | 'today' | 'week'

export const STATUS_EXPIRIES: { value: StatusExpiry; label: string }[] = [
  { value: 'never', label: "Don't clear" },
  { value: '30m', label: '30 minutes' },
  { value: '1h', label: '1 hour' },
  { value: 'today', label: 'Today' },
  { value: 'week', label: 'This week' },
]

/** When a status set at now (Unix ms) with the preset expires, in local time; null: never.
 * "Today" ends at local midnight, "this week" at the midnight that starts next Monday. */
export function statusExpiresAt(preset: StatusExpiry, now: number): number | null {
  const d = new Date(now)
  switch (preset) {
    case 'never':
      return null
    case '30m':
      return now + 30 * 60_000
    case '1h':
      return now + 60 * 60_000
    case 'today':
      return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
    case 'week': {
      const daysToMonday = ((8 - d.getDay()) % 7) || 7
      return new Date(d.getFullYear(), d.getMonth(), d.getDate() + daysToMonday).getTime()
    }
  }
}

/** The types the server reads (PNG, JPEG, GIF; not WebP or SVG). */
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/gif']

/** Why a picked file cannot be an avatar, checked before sending; null when it may be. */
export function avatarFileProblem(file: Pick<File, 'type' | 'size'>): string | null {
  if (!AVATAR_TYPES.includes(file.type)) return 'Choose a PNG, JPEG or GIF image.'
  if (file.size > MAX_AVATAR_UPLOAD) return 'The image is larger than 5 MB.'
  return null
}

/** What to tell the user about a refused avatar upload (the server's words where it has any). */
export function avatarErrorMessage(status: number, body: unknown): string {
  const message = serverMessage(body)
  switch (status) {
    case 413:
      return `The image is too large${message ? `: ${message}` : ' (at most 5 MB).'}`
    case 415:
      return `That is not an image the server reads${message ? `: ${message}` : '. Use PNG, JPEG or GIF.'}`
    case 400:
      return `The image could not be read${message ? `: ${message}` : '.'}`
    case 429:
      return 'Too many profile changes at once: try again in a few seconds.'
  }
  return message ?? `The upload failed (HTTP ${status}).`
}

export interface AvatarUploadHandlers {
  onProgress(loaded: number, total: number): void
  onDone(user: User): void
  onFailed(message: string): void
}

/** Sends one avatar (PUT /api/me/avatar, the image as the body); abort() cancels it. */
export type AvatarTransport = (file: Blob, handlers: AvatarUploadHandlers) => { abort(): void }

export const xhrAvatarUpload: AvatarTransport = (file, handlers) => {
  const xhr = new XMLHttpRequest()
  let aborted = false
  xhr.open('PUT', '/api/me/avatar')
  xhr.setRequestHeader('Accept', 'application/json')
  if (file.type) xhr.setRequestHeader('Content-Type', file.type)
  xhr.upload.onprogress = (event) => {
    if (!aborted) handlers.onProgress(event.loaded, event.lengthComputable ? event.total : file.size)
  }
  xhr.onload = () => {
    if (aborted) return
    const body = parseJson(xhr.responseText)
    if (xhr.status >= 200 && xhr.status < 300 && isUserBody(body)) handlers.onDone(body.user)
    else handlers.onFailed(avatarErrorMessage(xhr.status, body))
  }
  xhr.onerror = () => {
    if (!aborted) handlers.onFailed('The upload failed: the server could not be reached.')
  }
  xhr.send(file)
  return {
    abort() {
      aborted = true
      xhr.abort()
    },
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function isUserBody(body: unknown): body is { user: User } {
  return typeof body === 'object' && body !== null && 'user' in body && typeof body.user === 'object'
}

function serverMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null
  const { error } = body
  if (typeof error !== 'object' || error === null || !('message' in error)) return null
  return typeof error.message === 'string' ? error.message : null
}

/** A short "5 minutes ago" / date for a session time (RFC 3339). */
export function sessionTime(iso: string | undefined, now: number): string {
  if (!iso) return 'never'
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return 'unknown'
  const minutes = Math.round((now - at) / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 24) return `${hours} h ago`
  return new Date(at).toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' })
}
