// @ts-check
/* global document, window, MutationObserver, Element */
// The end-to-end harness: a real herald-server process per scenario, REST helpers that speak the
// server's API with bearer tokens, and Chromium (Debian's, driven by playwright-core) for the
// browsers. Scenarios live in *.e2e.js next to this file; see README.md.

import { execFile, spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import https from 'node:https'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { AxeBuilder } from '@axe-core/playwright'
import { chromium } from 'playwright-core'

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').BrowserContext} BrowserContext */
/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('playwright-core').Locator} Locator */
/** @typedef {import('../src/api/types').User} User */
/** @typedef {import('../src/api/types').Chat} Chat */
/** @typedef {import('../src/api/types').Message} Message */

const here = path.dirname(fileURLToPath(import.meta.url))
/** The repository root (two levels above this file). */
export const REPO_ROOT = path.resolve(here, '../..')
/** Screenshots, server logs and latency.json go here (git-ignored). */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'e2e')
/** The server under test: built by `make server`, which embeds the built web client. */
export const SERVER_BIN =
  process.env.HERALD_SERVER_BIN ?? path.join(REPO_ROOT, 'build', 'bin', 'herald-server')
const CHROMIUM_BIN = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** The keepalive interval scenario servers run with: short, so silence detection is quick. */
export const KEEPALIVE = '2s'
/** How long a server may take to print its listening line. */
const START_TIMEOUT_MS = 10_000
/** The default timeout of page actions and waits, in ms (playwright's own is 30 s). */
export const ACTION_TIMEOUT_MS = 15_000
/** How long a graceful stop may take before the process is killed. */
const STOP_TIMEOUT_MS = 10_000

/** Servers still running: killed by PID if the test process exits without stopping them. */
const running = new Set(/** @type {import('node:child_process').ChildProcess[]} */ ([]))
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * Polls check every intervalMs until it returns a value other than undefined or false, and
 * returns that value. Rejects with `what` in the message after timeoutMs. Errors thrown by check
 * propagate at once.
 * @template T
 * @param {() => Promise<T | undefined | false> | T | undefined | false} check
 * @param {{ what: string, timeoutMs?: number, intervalMs?: number }} options
 * @returns {Promise<T>}
 */
export async function waitUntil(check, { what, timeoutMs = 15_000, intervalMs = 100 }) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * What the REST helpers need of a server: its base URL and, for HTTPS, the PEM certificate (or
 * CA) to trust for it, and that certificate's file (for curl).
 * @typedef {{ url: string, ca?: string, caFile?: string }} ServerAddress
 */

/**
 * One herald-server process on 127.0.0.1 with a data directory of its own (a fresh temp dir,
 * removed by stop). kill and restart keep the port and the data, as a crash and a restart would.
 * The server's stderr (its slog lines) is appended to test-artifacts/e2e/server-<label>.log.
 * Started with `--tls-self-signed` (or `--tls-cert`) it serves HTTPS: url is https://…,
 * fingerprint is the certificate's SHA-256 as the server printed it, and ca its PEM, which the
 * REST helpers trust for this server alone.
 */
export class HeraldServer {
  /** @type {import('node:child_process').ChildProcess | null} */
  #child = null
  /** @type {import('node:fs').WriteStream} */
  #log
  /** The last lines of stderr, for error messages. */
  /** @type {string[]} */
  #stderrTail = []

  /**
   * @param {string} dataDir
   * @param {string} keepalive
   * @param {string} label
   * @param {string[]} args further `serve` flags, on every start
   */
  constructor(dataDir, keepalive, label, args) {
    this.dataDir = dataDir
    this.keepalive = keepalive
    this.args = args
    /** The TCP port, fixed by the first start. */
    this.port = 0
    /** `http://127.0.0.1:<port>` (https for TLS), without a trailing slash. */
    this.url = ''
    /** The certificate's SHA-256 fingerprint as printed (`ab:cd:…`); '' for plain HTTP. */
    this.fingerprint = ''
    /** For HTTPS, the PEM file of the server's certificate and its text: what clients trust. */
    /** @type {string | undefined} */
    this.caFile = undefined
    /** @type {string | undefined} */
    this.ca = undefined
    mkdirSync(ARTIFACTS_DIR, { recursive: true })
    this.#log = createWriteStream(path.join(ARTIFACTS_DIR, `server-${label}.log`))
  }

  /**
   * Starts a server on a free port with a fresh data directory.
   * @param {{ label: string, keepalive?: string, args?: string[] }} options label names the log
   *   file; args are further `serve` flags (e.g. a limit turned off).
   */
  static async start({ label, keepalive = KEEPALIVE, args = [] }) {
    if (!existsSync(SERVER_BIN)) {
      throw new Error(
        `herald-server not found at ${SERVER_BIN}: run \`make server\` first (or set HERALD_SERVER_BIN)`,
      )
    }
    const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-e2e-'))
    const server = new HeraldServer(dataDir, keepalive, label, args)
    await server.#spawn('127.0.0.1:0')
    return server
  }

  /** The server's PID, or undefined while it is not running. */
  get pid() {
    return this.#child?.pid
  }

  /** @param {string} addr */
  async #spawn(addr) {
    const child = spawn(
      SERVER_BIN,
      ['serve', '--addr', addr, '--data-dir', this.dataDir, '--keepalive', this.keepalive, ...this.args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    running.add(child)
    child.once('exit', () => running.delete(child))
    const stderr = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stderr) })
    stderr.on('line', (line) => {
      this.#log.write(line + '\n')
      this.#stderrTail.push(line)
      if (this.#stderrTail.length > 20) this.#stderrTail.shift()
    })
    const stdout = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) })
    // The listening line; over TLS the certificate line follows it at once.
    /** @type {{ url: string, fingerprint: string }} */
    const started = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`herald-server did not start within ${START_TIMEOUT_MS} ms: ${this.#tail()}`))
      }, START_TIMEOUT_MS)
      let listening = ''
      stdout.on('line', (line) => {
        const m = /^herald-server listening on (https?:\/\/\S+)$/.exec(line)
        if (m?.[1]) {
          listening = m[1]
          if (listening.startsWith('https:')) return
          clearTimeout(timer)
          resolve({ url: listening, fingerprint: '' })
        }
        const fp = /^herald-server certificate sha256 (\S+)$/.exec(line)
        if (fp?.[1] && listening) {
          clearTimeout(timer)
          resolve({ url: listening, fingerprint: fp[1] })
        }
      })
      child.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`herald-server exited (${signal ?? code}) before listening: ${this.#tail()}`))
      })
    })
    this.#child = child
    this.url = started.url
    this.fingerprint = started.fingerprint
    this.port = Number(new URL(started.url).port)
    if (started.url.startsWith('https:')) {
      const certFlag = this.args.indexOf('--tls-cert')
      this.caFile = certFlag >= 0 ? this.args[certFlag + 1] : path.join(this.dataDir, 'tls-cert.pem')
      if (!this.caFile) throw new Error('--tls-cert without a file')
      this.ca = await readFile(this.caFile, 'utf8')
    }
  }

  #tail() {
    return this.#stderrTail.join('\n') || '(no output)'
  }

  /** Kills the server with SIGKILL (no graceful goodbye to the streams) and waits for it to exit. */
  async kill() {
    const child = this.#child
    if (!child) throw new Error('herald-server is not running')
    this.#child = null
    await signalAndWait(child, 'SIGKILL')
  }

  /**
   * Starts the server again on the same port and data directory. The port was freed by the
   * exit; if the kernel still holds it, the start is retried for up to 5 s.
   */
  async restart() {
    if (this.#child) throw new Error('herald-server is still running')
    await waitUntil(
      async () => {
        try {
          await this.#spawn(`127.0.0.1:${this.port}`)
          return true
        } catch (err) {
          if (err instanceof Error && /address already in use/.test(err.message)) return false
          throw err
        }
      },
      { what: `port ${this.port} to be free again`, timeoutMs: 5_000, intervalMs: 200 },
    )
  }

  /** Stops the server (SIGTERM, SIGKILL after 10 s) if it runs, and removes its data directory. */
  async stop() {
    const child = this.#child
    this.#child = null
    if (child) {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await signalAndWait(child, 'SIGTERM')
      clearTimeout(timer)
    }
    await new Promise((resolve) => this.#log.end(resolve))
    await rm(this.dataDir, { recursive: true, force: true })
  }
}

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
async function signalAndWait(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
}

/** An error answer of the API: its HTTP status and `error.code`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`)
    this.status = status
    this.code = code
  }
}

/**
 * The REST API as one user sees it (bearer token, like a program; no cookies, so no CSRF check).
 * It reads the server's url on every call, so it keeps working across restarts on the same port.
 */
export class Api {
  /**
   * @param {ServerAddress} server
   * @param {string} token
   */
  constructor(server, token) {
    this.server = server
    this.token = token
  }

  /**
   * @param {string} method
   * @param {string} urlPath
   * @param {unknown} [body]
   * @returns {Promise<unknown>} the parsed JSON body, or undefined for 204
   */
  async request(method, urlPath, body) {
    return apiRequest(this.server, method, urlPath, body, this.token)
  }

  /** @returns {Promise<string>} a new invite code (admin only) */
  async createInvite() {
    const res = /** @type {{ code: string }} */ (await this.request('POST', '/api/invites'))
    return res.code
  }

  /**
   * @param {string} name
   * @param {string[]} [memberIds] besides the caller
   * @returns {Promise<Chat>}
   */
  async createChat(name, memberIds = []) {
    const res = /** @type {{ chat: Chat }} */ (await this.request('POST', '/api/chats', { name, memberIds }))
    return res.chat
  }

  /**
   * @param {string} chatId
   * @param {string} content
   * @param {string} [clientId]
   * @returns {Promise<Message>}
   */
  async postMessage(chatId, content, clientId) {
    const body = clientId === undefined ? { content } : { content, clientId }
    const res = /** @type {{ message: Message }} */ (
      await this.request('POST', `/api/chats/${chatId}/messages`, body)
    )
    return res.message
  }

  /**
   * Every message of a chat, oldest first (pages of 200 by ULID).
   * @param {string} chatId
   * @returns {Promise<Message[]>}
   */
  async allMessages(chatId) {
    /** @type {Message[]} */
    const all = []
    let after = ''
    for (;;) {
      const query = after ? `?limit=200&after=${after}` : '?limit=200&after=00000000000000000000000000'
      const res = /** @type {{ messages: Message[], hasMore: boolean }} */ (
        await this.request('GET', `/api/chats/${chatId}/messages${query}`)
      )
      all.push(...res.messages)
      const last = res.messages.at(-1)
      if (!res.hasMore || !last) return all
      after = last.id
    }
  }

  /**
   * The server's stream counters (admin only); subscribers is the number of open streams.
   * @returns {Promise<{ subscribers: number, published: number, delivered: number, droppedEphemeral: number, overflows: number }>}
   */
  async streamStats() {
    const res = /** @type {{ streams: { subscribers: number, published: number, delivered: number, droppedEphemeral: number, overflows: number } }} */ (
      await this.request('GET', '/api/stats')
    )
    return res.streams
  }
}

/**
 * One HTTP request to the server: fetch for plain HTTP; for HTTPS node:https trusting the
 * server's own certificate (server.ca) and nothing else, verification left on.
 * @param {ServerAddress} server
 * @param {string} method
 * @param {string} urlPath
 * @param {{ headers?: Record<string, string>, body?: string }} [options]
 * @returns {Promise<{ status: number, headers: Headers, text: string }>}
 */
export async function serverRequest(server, method, urlPath, { headers = {}, body } = {}) {
  const url = new URL(urlPath, server.url)
  if (url.protocol !== 'https:') {
    const res = await fetch(url, { method, headers, body })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }
  if (!server.ca) throw new Error(`${server.url}: HTTPS without the server's certificate to trust`)
  const ca = server.ca
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, timeout: 15_000 }, (res) => {
      /** @type {Buffer[]} */
      const chunks = []
      res.on('data', (/** @type {Buffer} */ chunk) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const answer = new Headers()
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : [value ?? '']) answer.append(name, v)
        }
        resolve({ status: res.statusCode ?? 0, headers: answer, text: Buffer.concat(chunks).toString('utf8') })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * @param {ServerAddress} server
 * @param {string} method
 * @param {string} urlPath
 * @param {unknown} body
 * @param {string} [token]
 */
async function apiRequest(server, method, urlPath, body, token) {
  /** @type {Record<string, string>} */
  const headers = {}
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  const res = await serverRequest(server, method, urlPath, {
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 204) return undefined
  const text = res.text
  if (res.status < 200 || res.status >= 300) {
    /** @type {{ error?: { code?: string, message?: string } }} */
    let parsed = {}
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: the raw text goes into the message below
    }
    throw new ApiError(res.status, parsed.error?.code ?? 'unknown', parsed.error?.message ?? text)
  }
  return /** @type {unknown} */ (JSON.parse(text))
}

/**
 * A request with the real `curl` binary, as a script or a bot would send it: a JSON body, a bearer
 * token (over HTTPS trusting the server's certificate file, `--cacert`). Resolves with the parsed
 * JSON answer (undefined for 204); rejects with an ApiError for an HTTP error status, or with
 * curl's own error when it could not connect.
 * @param {ServerAddress} server
 * @param {string} method
 * @param {string} urlPath
 * @param {unknown} body
 * @param {string} token
 * @returns {Promise<unknown>}
 */
export async function curlJson(server, method, urlPath, body, token) {
  const args = ['--silent', '--show-error', '--max-time', '10', '--request', method]
  args.push('--header', `Authorization: Bearer ${token}`)
  if (server.caFile) args.push('--cacert', server.caFile)
  if (body !== undefined) {
    args.push('--header', 'Content-Type: application/json', '--data-binary', JSON.stringify(body))
  }
  // The status on a line of its own after the body.
  args.push('--write-out', '\n%{http_code}', server.url + urlPath)
  const stdout = await new Promise((resolve, reject) => {
    execFile('curl', args, { encoding: 'utf8' }, (err, out, stderr) => {
      if (err) reject(new Error(`curl ${method} ${urlPath}: ${stderr || err.message}`, { cause: err }))
      else resolve(out)
    })
  })
  const cut = stdout.lastIndexOf('\n')
  const status = Number(stdout.slice(cut + 1))
  const text = stdout.slice(0, cut)
  if (status === 204) return undefined
  if (status < 200 || status >= 300) {
    /** @type {{ error?: { code?: string, message?: string } }} */
    let parsed = {}
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: the raw text goes into the message below
    }
    throw new ApiError(status, parsed.error?.code ?? 'unknown', parsed.error?.message ?? text)
  }
  return /** @type {unknown} */ (JSON.parse(text))
}

/**
 * A user of a scenario: the account, its password (to sign in through the UI) and an Api with
 * its token.
 * @typedef {{ user: User, password: string, api: Api }} Member
 */

/**
 * Registers users over REST: the first becomes the admin (so the server must be new), the others
 * join with invites the admin creates. Passwords are `password-<username>`.
 * @template {string} Name
 * @param {ServerAddress} server
 * @param {Name[]} usernames
 * @returns {Promise<Record<Name, Member>>}
 */
export async function createTeam(server, usernames) {
  const team = /** @type {Record<Name, Member>} */ ({})
  /** @type {Api | null} */
  let admin = null
  for (const username of usernames) {
    const password = `password-${username}`
    const inviteCode = admin ? await admin.createInvite() : undefined
    const res = /** @type {{ user: User, token: string }} */ (
      await apiRequest(server, 'POST', '/api/auth/register', { username, password, inviteCode })
    )
    const api = new Api(server, res.token)
    admin ??= api
    team[username] = { user: res.user, password, api }
  }
  return team
}

/** Launches Debian's Chromium through playwright-core (no browser download). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS })
}

/**
 * A new browser context (its own cookies, storage and tabs: one "browser" of one user) whose
 * relative URLs resolve against the server, 1280×800 unless options say otherwise (options are
 * playwright's: `ignoreHTTPSErrors` for a self-signed server, `colorScheme`, `viewport`…).
 * Actions and waits without a timeout of their own give up after ACTION_TIMEOUT_MS.
 * @param {Browser} browser
 * @param {{ url: string }} server
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function newContext(browser, server, options = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: { width: 1280, height: 800 },
    ...options,
  })
  context.setDefaultTimeout(ACTION_TIMEOUT_MS)
  await recordCspViolations(context)
  return context
}

/** @type {WeakMap<BrowserContext, string[]>} */
const cspViolations = new WeakMap()

/**
 * Records every Content-Security-Policy violation in the context's pages: the DOM's
 * `securitypolicyviolation` events and Chromium's console errors about the policy (which also
 * cover what no event reports, such as a malformed header).
 * @param {BrowserContext} context
 */
async function recordCspViolations(context) {
  /** @type {string[]} */
  const seen = []
  cspViolations.set(context, seen)
  await context.exposeBinding('heraldE2eCspViolation', (_source, /** @type {string} */ text) => {
    seen.push(text)
  })
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = /** @type {(text: string) => void} */ (
        /** @type {unknown} */ (Reflect.get(window, 'heraldE2eCspViolation'))
      )
      report(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`)
    })
  })
  context.on('console', (message) => {
    if (message.type() === 'error' && /Content[- ]Security[- ]Policy/i.test(message.text())) seen.push(message.text())
  })
}

/**
 * The CSP violations recorded in context's pages so far.
 * @param {BrowserContext} context
 * @returns {string[]}
 */
export function cspViolationsIn(context) {
  return [...(cspViolations.get(context) ?? [])]
}

/**
 * Signs in through the real UI: the form's `Username` and `Password` fields and its `Sign in`
 * button. Resolves when the form is gone; rejects with the form's alert text if sign-in fails.
 * @param {Page} page
 * @param {Member} member
 * @param {{ screenshot?: string }} [options] screenshot names a capture of the filled form
 */
export async function signIn(page, member, options = {}) {
  await page.goto('/')
  await page.getByLabel('Username', { exact: true }).fill(member.user.username)
  await page.getByLabel('Password', { exact: true }).fill(member.password)
  if (options.screenshot) await screenshot(page, options.screenshot)
  const button = page.getByRole('button', { name: 'Sign in', exact: true })
  await button.click()
  try {
    await button.waitFor({ state: 'detached', timeout: 10_000 })
  } catch (err) {
    const alerts = await page.getByRole('alert').allTextContents()
    throw new Error(
      `sign-in as ${member.user.username} did not complete: ${alerts.join('; ') || String(err)}`,
      { cause: err },
    )
  }
}

/**
 * Opens a chat from the sidebar (a link or button named by the chat's name; the first match,
 * which is the sidebar's entry in document order) and waits for its message list and composer.
 * @param {Page} page
 * @param {string} chatName
 */
export async function openChat(page, chatName) {
  const entry = page
    .getByRole('link', { name: chatName })
    .or(page.getByRole('button', { name: chatName }))
    .first()
  await entry.click()
  await messageLog(page).waitFor()
  await composer(page).waitFor()
}

/** @param {Page} page the message list (`role="log"`) */
export function messageLog(page) {
  return page.getByRole('log')
}

/** @param {Page} page the composer's textbox, labelled `Message` */
export function composer(page) {
  return page.getByRole('textbox', { name: 'Message', exact: true })
}

/**
 * Types a message into the composer and sends it with Enter.
 * @param {Page} page
 * @param {string} text
 */
export async function sendWithEnter(page, text) {
  const box = composer(page)
  await box.fill(text)
  await box.press('Enter')
}

/**
 * Copies of a text shown in the message list (the innermost elements that contain it). Contents
 * in scenarios carry unique bracketed tokens, so one copy per rendered message.
 * @param {Page} page
 * @param {string} text
 */
export function inLog(page, text) {
  return messageLog(page).getByText(text)
}

/**
 * Waits until text is shown in page's message list, then returns how many copies it shows.
 * @param {Page} page
 * @param {string} text
 * @param {number} [timeoutMs]
 */
export async function waitInLog(page, text, timeoutMs = 15_000) {
  await inLog(page, text).first().waitFor({ timeout: timeoutMs })
  return inLog(page, text).count()
}

/** The texts of the connection indicator, as the issue specifies them. */
export const CONNECTION_STATES = /** @type {const} */ ([
  'Live',
  'Connecting…',
  'Reconnecting…',
  'Polling',
  'Offline',
])
/** @typedef {typeof CONNECTION_STATES[number]} ConnectionStateText */

/**
 * A case-sensitive pattern for one state's text that does not match inside another (Connecting…
 * inside Reconnecting…).
 * @param {ConnectionStateText} state
 */
function statePattern(state) {
  return new RegExp(`(^|[^A-Za-z])${state}`)
}
const ANY_STATE = new RegExp(CONNECTION_STATES.map((s) => `(^|[^A-Za-z])${s}`).join('|'))

/**
 * The connection indicator: the `role="status"` element that shows one of the state texts (other
 * live regions, such as a typing line, do not).
 * @param {Page} page
 */
export function connectionStatus(page) {
  return page.getByRole('status').filter({ hasText: ANY_STATE })
}

/**
 * Waits until the connection indicator shows state.
 * @param {Page} page
 * @param {ConnectionStateText} state
 * @param {number} [timeoutMs]
 */
export async function waitForConnection(page, state, timeoutMs = 15_000) {
  await connectionStatus(page).filter({ hasText: statePattern(state) }).waitFor({ timeout: timeoutMs })
}

/**
 * Opens the chat in each page and waits until each shows Live.
 * @param {string} chatName
 * @param {...Page} pages
 */
export async function openLive(chatName, ...pages) {
  for (const page of pages) await openChat(page, chatName)
  for (const page of pages) await waitForConnection(page, 'Live')
}

/**
 * Records every change of the connection indicator's text in the page (a MutationObserver, so
 * brief states are not missed between polls). The returned array fills as the page reports;
 * `at` is the page's Date.now(). Call once per page, after the indicator is on screen.
 * @param {Page} page
 * @returns {Promise<Array<{ state: ConnectionStateText, at: number }>>}
 */
export async function recordConnectionStates(page) {
  /** @type {Array<{ state: ConnectionStateText, at: number }>} */
  const states = []
  await page.exposeFunction('heraldE2eConnectionState', (/** @type {string} */ state, /** @type {number} */ at) => {
    const known = CONNECTION_STATES.find((s) => s === state)
    if (known) states.push({ state: known, at })
  })
  await page.evaluate((names) => {
    const report = /** @type {(state: string, at: number) => Promise<void>} */ (
      /** @type {unknown} */ (Reflect.get(window, 'heraldE2eConnectionState'))
    )
    const patterns = names.map((name) => ({ name, re: new RegExp(`(^|[^A-Za-z])${name}`) }))
    let last = ''
    const check = () => {
      for (const el of document.querySelectorAll('[role="status"], output')) {
        const text = el.textContent ?? ''
        const hit = patterns.find((p) => p.re.test(text))
        if (!hit) continue
        if (hit.name !== last) {
          last = hit.name
          void report(hit.name, Date.now())
        }
        return
      }
    }
    new MutationObserver(check).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    })
    check()
  }, [...CONNECTION_STATES])
  return states
}

/**
 * Records when each token matching tokenSource (a RegExp source, global-matched) first appears in
 * the page's message list, by the page's Date.now(): a MutationObserver sees it in the same task
 * that renders it. Call after the list is on screen; the map fills as the page reports.
 * @param {Page} page
 * @param {string} tokenSource
 * @returns {Promise<Map<string, number>>}
 */
export async function recordArrivals(page, tokenSource) {
  /** @type {Map<string, number>} */
  const arrivals = new Map()
  await page.exposeFunction('heraldE2eArrived', (/** @type {string} */ token, /** @type {number} */ at) => {
    if (!arrivals.has(token)) arrivals.set(token, at)
  })
  await page.evaluate((source) => {
    const report = /** @type {(token: string, at: number) => Promise<void>} */ (
      /** @type {unknown} */ (Reflect.get(window, 'heraldE2eArrived'))
    )
    const seen = new Set()
    /** @param {Node} node */
    const scan = (node) => {
      const element = node instanceof Element ? node : node.parentElement
      if (!element?.closest('[role="log"]')) return
      const at = Date.now()
      for (const m of (node.textContent ?? '').matchAll(new RegExp(source, 'g'))) {
        if (seen.has(m[0])) continue
        seen.add(m[0])
        void report(m[0], at)
      }
    }
    new MutationObserver((records) => {
      for (const record of records) {
        if (record.type === 'characterData') scan(record.target)
        for (const node of record.addedNodes) scan(node)
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true })
  }, tokenSource)
  return arrivals
}

/**
 * The toasts on screen: the region `Toasts`, whose list items are named "<kind>: <title>"
 * ("Task succeeded: …", "Critical alert: …").
 * @param {Page} page
 */
export function toastRegion(page) {
  return page.getByRole('region', { name: 'Toasts', exact: true })
}

/**
 * One toast, by its accessible name (its title, with the kind before it when the title does not
 * say it: "Task succeeded: build", "Critical alert: Database down"; a string matched exactly or a
 * RegExp).
 * @param {Page} page
 * @param {string | RegExp} name
 */
export function toastNamed(page, name) {
  return toastRegion(page).getByRole('listitem', { name, exact: typeof name === 'string' })
}

/**
 * Records every toast that appears in the page (a MutationObserver on the toast list, so a toast
 * shown and gone between polls is still seen): its accessible name and text, by the page's
 * Date.now(). Call once per page after sign-in; the array fills as the page reports.
 * @param {Page} page
 * @returns {Promise<Array<{ name: string, text: string, at: number }>>}
 */
export async function recordToasts(page) {
  /** @type {Array<{ name: string, text: string, at: number }>} */
  const toasts = []
  await page.exposeFunction('heraldE2eToast', (/** @type {string} */ name, /** @type {string} */ text, /** @type {number} */ at) => {
    toasts.push({ name, text, at })
  })
  await page.evaluate(() => {
    const report = /** @type {(name: string, text: string, at: number) => Promise<void>} */ (
      /** @type {unknown} */ (Reflect.get(window, 'heraldE2eToast'))
    )
    const seen = new Set()
    const check = () => {
      for (const el of document.querySelectorAll('[data-toast-id]')) {
        const id = el.getAttribute('data-toast-id')
        if (seen.has(id)) continue
        seen.add(id)
        void report(el.getAttribute('aria-label') ?? '', el.textContent ?? '', Date.now())
      }
    }
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true })
    check()
  })
  return toasts
}

/**
 * Waits until the element's animations (and its descendants') have finished, so a screenshot
 * shows it as it rests, not halfway through fading in.
 * @param {Locator} locator
 */
export async function animationsDone(locator) {
  await locator.evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)))
}

/**
 * The notification center's bell, named "Notifications, <n> unread".
 * @param {Page} page
 */
export function notificationBell(page) {
  return page.getByRole('button', { name: /^Notifications, (\d+|99\+) unread$/ })
}

/**
 * Waits until the bell's unread count is n.
 * @param {Page} page
 * @param {number} n
 * @param {number} [timeoutMs]
 */
export async function waitForUnread(page, n, timeoutMs = 10_000) {
  await page
    .getByRole('button', { name: `Notifications, ${n} unread`, exact: true })
    .waitFor({ timeout: timeoutMs })
}

/**
 * Saves a full-page screenshot as test-artifacts/e2e/<name>.png.
 * @param {Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), fullPage: true })
}

/**
 * Scans the page with axe-core (WCAG 2.1 A and AA rules) and returns its serious and critical
 * violations, each as "rule: help (selectors)". The whole report goes to
 * test-artifacts/e2e/axe-<name>.json so that minor findings can be read too.
 * @param {Page} page
 * @param {string} name
 * @param {{include?: string}} [options] a CSS selector to scan only part of the page
 * @returns {Promise<string[]>}
 */
export async function axeScan(page, name, { include } = {}) {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
  if (include) builder = builder.include(include)
  const results = await builder.analyze()
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  writeFileSync(path.join(ARTIFACTS_DIR, `axe-${name}.json`), JSON.stringify(results.violations, null, 2))
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
}

/** A short random string that makes message contents unique across runs. */
export function nonce() {
  return Math.random().toString(36).slice(2, 8)
}

/**
 * What a scenario gets: its own server and team, and ways to open browsers on it.
 * @template {string} Name
 * @typedef {object} Scene
 * @property {HeraldServer} server
 * @property {Record<Name, Member>} team
 * @property {(options?: import('playwright-core').BrowserContextOptions) => Promise<BrowserContext>}
 *   newContext a new browser (context) on the server, with the scene's context options and these
 * @property {(name: Name, options?: { screenshot?: string }) => Promise<Page>} signedIn a page in
 *   a new browser, signed in as name through the UI
 */

/**
 * Runs body against a new server whose users are usernames (the first is the admin), then closes
 * every browser context it opened and stops the server, whatever happened. On failure every open
 * page is captured as test-artifacts/e2e/failed-<label>-<n>.png before the error propagates (and
 * the captures of an earlier run under the same label are removed first).
 * @template {string} Name
 * @param {Browser} browser
 * @param {string} label names the server log and failure screenshots
 * @param {Name[]} usernames
 * @param {(scene: Scene<Name>) => Promise<void>} body
 * @param {{ serverArgs?: string[], contextOptions?: import('playwright-core').BrowserContextOptions }} [options]
 *   serverArgs are further `herald-server serve` flags; contextOptions apply to every browser
 *   context of the scene (e.g. `ignoreHTTPSErrors` for a self-signed certificate)
 */
export async function withScene(browser, label, usernames, body, { serverArgs = [], contextOptions = {} } = {}) {
  await removeFailureShots(label)
  const server = await HeraldServer.start({ label, args: serverArgs })
  /** @type {BrowserContext[]} */
  const contexts = []
  try {
    const team = await createTeam(server, usernames)
    /** @param {import('playwright-core').BrowserContextOptions} [options] */
    const openContext = async (options = {}) => {
      const context = await newContext(browser, server, { ...contextOptions, ...options })
      contexts.push(context)
      return context
    }
    /** @type {Scene<Name>} */
    const scene = {
      server,
      team,
      newContext: openContext,
      async signedIn(name, options) {
        const page = await (await openContext()).newPage()
        await signIn(page, team[name], options)
        return page
      },
    }
    try {
      await body(scene)
      // The web client runs under the server's Content-Security-Policy: not one violation.
      const violations = contexts.flatMap(cspViolationsIn)
      if (violations.length > 0) throw new Error(`Content-Security-Policy violations:\n${violations.join('\n')}`)
    } catch (err) {
      await captureFailure(contexts, label)
      throw err
    }
  } finally {
    for (const context of contexts) await context.close().catch(() => undefined)
    await server.stop()
  }
}

/**
 * @param {BrowserContext[]} contexts
 * @param {string} label
 */
async function captureFailure(contexts, label) {
  let n = 0
  for (const context of contexts) {
    for (const page of context.pages()) {
      n++
      await screenshot(page, `failed-${label}-${n}`).catch(() => undefined)
    }
  }
}

/** @param {string} label */
async function removeFailureShots(label) {
  const names = await readdir(ARTIFACTS_DIR).catch(() => /** @type {string[]} */ ([]))
  const ours = new RegExp(`^failed-${label}-\\d+\\.png$`)
  await Promise.all(names.filter((name) => ours.test(name)).map((name) => rm(path.join(ARTIFACTS_DIR, name))))
}
