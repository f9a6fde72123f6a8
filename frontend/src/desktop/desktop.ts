import type { OutboxItem } from '../outbox/types'
// The web client's side of the Herald desktop app (Wails). There the page is served by the app:
// /api/* reaches the team server through the app (which adds the user's token), and the app's own
// endpoints live under /desktop/* (JSON; errors in the API's shape {error: {code, message}}).
import { ApiRequestError } from '../api/client'

// One definition of the check, shared with the notification code (which must not raise browser
// notifications in the app).
export { isDesktopApp } from '../notifications/browserNotifier'

/** The app's connection to the team server, as its tray shows it. */
export type DesktopConnection = 'Connecting' | 'Live' | 'Reconnecting' | 'Signed out'

/** GET /desktop/state. */
export interface DesktopState {
  /** A team was chosen (hosted or joined); false on first run and after a reset. */
  configured: boolean
  /** host: the team server runs inside the app; join: the app connects to one elsewhere. */
  mode?: 'host' | 'join'
  /** The team server the app talks to. */
  serverUrl?: string
  /** Where the hosted server listens (host mode). */
  hostAddr?: string
  teamName?: string
  signedIn: boolean
  connection: DesktopConnection
  /** The user's unread count (excluding muted chats). */
  unread: number
  /** Closing the window hides it to the tray instead of quitting. */
  keepInTray: boolean
  /** The address others on the network use to reach a hosted server. */
  lanUrl?: string
  /** The app has a tray icon (false where the desktop has no tray). */
  hasTray?: boolean
  /** Messages waiting in the app's outbox for the server to be back. */
  outbox?: number
  /** Native notifications the desktop could not show (no notification service). */
  nativeFailures?: number
  /** Why the chosen team could not be started (e.g. its port is taken); absent when it runs. */
  problem?: string
  /**
   * SHA-256 fingerprint of the team server's certificate ('ab:cd:…'): the hosted server's own, or
   * the one the invite link carried, which the app accepts and no other.
   */
  fingerprint?: string
  /** The hosted team's newest backup (host mode, once there is one). */
  lastBackup?: DesktopBackup
  /** Setting: a team hosted here is announced on the local network (default true). */
  lanAnnounce?: boolean
  /** Setting: the Join screen looks for teams on the local network (default true). */
  lanBrowse?: boolean
  /** False when the app was started with --no-lan: neither announces nor looks. */
  lanAvailable?: boolean
  /** The address the hosted team is announced for; absent when it is not announced. */
  lanAnnounced?: string
}

/** A team found on the local network (GET /desktop/lan). Announced, not verified: mDNS is unauthenticated. */
export interface LanTeam {
  /** Unique per server. */
  instance: string
  name: string
  /** The announced host name, e.g. 'alice-laptop.local'. */
  host: string
  /** The IP address it is reached at. */
  addr: string
  port: number
  scheme: 'http' | 'https'
  /** The announced certificate fingerprint ('ab:cd:…'). */
  fingerprint?: string
  version?: string
  hostedBy?: string
  /** What the Join field takes: https://ADDR:PORT#sha256=FINGERPRINT (the fingerprint is pinned). */
  url: string
}

/** GET /desktop/lan. */
export interface LanTeams {
  /** False when looking for teams is off (the setting or --no-lan). */
  enabled: boolean
  teams: LanTeam[]
  /** Why the last look failed (e.g. no multicast on this network). */
  error?: string
}

/** A backup of the hosted team in its data dir's backups/ (POST /desktop/backup). */
export interface DesktopBackup {
  /** The archive's path on this computer. */
  path: string
  /** The archive's size in bytes. */
  size: number
  /** When it was taken: RFC 3339, UTC. */
  createdAt: string
}

/** One of GET /desktop/addresses: an address of this computer that others may reach it at. */
export interface LanAddress {
  /** The network interface, e.g. 'eth0', 'wlan0', 'docker0'. */
  interface: string
  address: string
  /** The interface carries the default route: most likely the one the team reaches. */
  defaultRoute: boolean
}

/** GET /desktop/addresses. */
export interface LanAddresses {
  /** Best first. */
  addresses: LanAddress[]
  /** The app's choice when the user makes none: the first address, or 127.0.0.1. */
  preferred: string
}

/** POST /desktop/host: start a team server in the app and create its admin account. */
export interface HostParams {
  /** host:port to listen on, e.g. 0.0.0.0:7878. */
  hostAddr: string
  /** The address invite links lead to (one of GET /desktop/addresses); absent: the app picks. */
  lanHost?: string
  teamName: string
  username: string
  displayName: string
  password: string
}

export interface HostResult {
  /** A single-use invite link for the first teammate. */
  /** Absent when the team already existed and the user is not its admin. */
  inviteUrl?: string
  /** Where others on the network reach the server. */
  lanUrl: string
}

export interface JoinResult {
  /** The page to load next: '/' (sign in) or '/join/{code}' (register with the invite). */
  next: string
}

export interface DesktopSettings {
  keepInTray?: boolean
  lanAnnounce?: boolean
  lanBrowse?: boolean
}

/** How long a /desktop request may take (ms): hosting starts a server, joining reaches one. */
export const DESKTOP_TIMEOUT_MS = 30_000

type Method = 'GET' | 'POST' | 'PUT'

/** The app's /desktop/* endpoints. Failures reject with ApiRequestError (status 0: no answer). */
export class DesktopClient {
  private readonly baseUrl: string

  constructor(baseUrl = '') {
    this.baseUrl = baseUrl
  }

  state(): Promise<DesktopState> {
    return this.request<DesktopState>('GET', '/desktop/state')
  }

  /** This computer's addresses that invite links may lead to, best first. */
  addresses(): Promise<LanAddresses> {
    return this.request<LanAddresses>('GET', '/desktop/addresses')
  }

  /** Teams found on the local network; the app looks while this is asked (every few seconds). */
  lan(): Promise<LanTeams> {
    return this.request<LanTeams>('GET', '/desktop/lan')
  }

  /** 400 for an invalid address or a weak password, 409 when the address is in use. */
  host(params: HostParams): Promise<HostResult> {
    return this.request<HostResult>('POST', '/desktop/host', params)
  }

  /** serverUrl: a server's address or an invite link. 502 when the server cannot be reached. */
  join(serverUrl: string): Promise<JoinResult> {
    return this.request<JoinResult>('POST', '/desktop/join', { serverUrl })
  }

  /** Whether the window has the user's attention: the app raises notifications only if not. */
  async focus(focused: boolean): Promise<void> {
    await this.send('POST', '/desktop/focus', { focused })
  }

  /** Starts the chosen team again after a problem (GET state's problem). */
  async retry(): Promise<void> {
    await this.send('POST', '/desktop/retry')
  }

  /** Forgets the team: the app shows the first-run choice again. */
  async reset(): Promise<void> {
    await this.send('POST', '/desktop/reset')
  }

  /** Messages waiting in the app's outbox for the team server, oldest first. */
  async outbox(): Promise<OutboxItem[]> {
    const { messages } = await this.request<{ messages: OutboxItem[] }>('GET', '/desktop/outbox')
    return messages
  }

  /** Backs up the hosted team now (Team settings' "Back up now"); 409 unless the app hosts one. */
  backUp(): Promise<DesktopBackup> {
    return this.request<DesktopBackup>('POST', '/desktop/backup')
  }

  saveSettings(settings: DesktopSettings): Promise<DesktopState> {
    return this.request<DesktopState>('PUT', '/desktop/settings', settings)
  }

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body)
    return (await response.json()) as T
  }

  private async send(method: Method, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(DESKTOP_TIMEOUT_MS) }
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    let response: Response
    try {
      response = await fetch(this.baseUrl + path, init)
    } catch {
      throw new ApiRequestError(0, 'unreachable', 'The Herald app did not answer. Try again, or restart Herald.')
    }
    if (!response.ok) throw await requestError(response)
    return response
  }
}

/** The client for the page's own origin (the app serves the page). */
export const desktopClient = new DesktopClient()

async function requestError(response: Response): Promise<ApiRequestError> {
  const body: unknown = await response.json().catch(() => undefined)
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const { error } = body
    if (
      typeof error === 'object' &&
      error !== null &&
      'message' in error &&
      typeof error.message === 'string'
    ) {
      const code = 'code' in error && typeof error.code === 'string' ? error.code : 'http_error'
      return new ApiRequestError(response.status, code, error.message)
    }
  }
  return new ApiRequestError(response.status, 'http_error', response.statusText || `HTTP ${response.status}`)
}
