import {
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
} from 'react'
import { ApiRequestError, errorMessage } from '../api/client'
import { AuthLayout } from '../components/AuthLayout'
import { fingerprintFromLink } from '../api/fingerprint'
import { Fingerprint } from '../components/Fingerprint'
import type { DesktopClient, HostParams, HostResult, LanAddresses, LanTeam, LanTeams } from './desktop'
import './desktop.css'

// The server's account rules (backend/httpapi/validate.go), as RegisterForm checks them.
const USERNAME_PATTERN = /^[A-Za-z0-9._-]{2,32}$/
const MIN_PASSWORD_LENGTH = 8
const MAX_DISPLAY_NAME_LENGTH = 64
const MAX_TEAM_NAME_LENGTH = 64
export const DEFAULT_HOST_ADDR = '0.0.0.0:7878'

/** host:port, the host a name, an IPv4 address, a bracketed IPv6 address or empty (all). */
const ADDRESS_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]*):(\d{1,5})$/

type Step =
  | { page: 'choose'; from?: 'host' | 'join' }
  | { page: 'host' }
  | { page: 'join' }
  | { page: 'hosted'; result: HostResult }

export interface DesktopSetupProps {
  /** addresses: without it the host form offers no choice of address (the app picks). */
  client: Pick<DesktopClient, 'host' | 'join'> & Partial<Pick<DesktopClient, 'addresses' | 'lan' | 'saveSettings'>>
  /** Loads a page of the app; window.location.assign (tests pass a spy). */
  assign?: (url: string) => void
  /** How often the Join screen asks for the teams on the network (ms); LAN_POLL_MS. */
  lanPollMs?: number
}

/**
 * The desktop app's first run: host a team on this computer (the app starts the team server and
 * creates the admin account) or join one elsewhere (then the server's own sign-in or invite
 * registration pages follow, through the app's proxy).
 */
export function DesktopSetup({ client, assign = assignLocation, lanPollMs = LAN_POLL_MS }: DesktopSetupProps) {
  const [step, setStep] = useState<Step>({ page: 'choose' })
  const loadAddresses = useCallback(async () => (client.addresses ? client.addresses() : null), [client])
  const loadLan = useMemo(() => client.lan?.bind(client), [client])
  const setBrowsing = useMemo(() => {
    const save = client.saveSettings?.bind(client)
    return save ? (on: boolean) => save({ lanBrowse: on }).then(() => undefined) : undefined
  }, [client])
  switch (step.page) {
    case 'choose':
      return <Chooser from={step.from} onChoose={(page) => setStep({ page })} />
    case 'host':
      return (
        <HostForm
          host={(params) => client.host(params)}
          addresses={loadAddresses}
          onBack={() => setStep({ page: 'choose', from: 'host' })}
          onHosted={(result) => setStep({ page: 'hosted', result })}
        />
      )
    case 'join':
      return (
        <JoinForm
          join={(serverUrl) => client.join(serverUrl)}
          lan={loadLan}
          lanPollMs={lanPollMs}
          setBrowsing={setBrowsing}
          onBack={() => setStep({ page: 'choose', from: 'join' })}
          onJoined={(next) => assign(next)}
        />
      )
    case 'hosted':
      return <Hosted result={step.result} onOpen={() => assign('/')} />
  }
}

function assignLocation(url: string) {
  window.location.assign(url)
}

function Chooser({ from, onChoose }: { from?: 'host' | 'join'; onChoose: (page: 'host' | 'join') => void }) {
  const ids = useId()
  const hostRef = useRef<HTMLButtonElement>(null)
  const joinRef = useRef<HTMLButtonElement>(null)

  // Back from a form: focus stays where the user left.
  useEffect(() => {
    if (from === 'host') hostRef.current?.focus()
    if (from === 'join') joinRef.current?.focus()
  }, [from])

  return (
    <AuthLayout title="Set up Herald">
      <div className="auth-intro">
        <p>Run your team&apos;s Herald server on this computer, or connect to a team that already has one.</p>
      </div>
      <div className="desktop-choices">
        <button
          ref={hostRef}
          type="button"
          className="desktop-choice"
          aria-labelledby={`${ids}-host`}
          aria-describedby={`${ids}-host-text`}
          onClick={() => onChoose('host')}
        >
          <span id={`${ids}-host`} className="desktop-choice-title">
            Host a team on this computer
          </span>
          <span id={`${ids}-host-text`} className="desktop-choice-text">
            Herald runs the team server here and makes you its admin. Others on your network connect to this
            computer.
          </span>
        </button>
        <button
          ref={joinRef}
          type="button"
          className="desktop-choice"
          aria-labelledby={`${ids}-join`}
          aria-describedby={`${ids}-join-text`}
          onClick={() => onChoose('join')}
        >
          <span id={`${ids}-join`} className="desktop-choice-title">
            Join a team
          </span>
          <span id={`${ids}-join-text`} className="desktop-choice-text">
            Connect to a team server someone else runs, with its address or an invite link.
          </span>
        </button>
      </div>
    </AuthLayout>
  )
}

type HostField = 'teamName' | 'hostAddr' | 'displayName' | 'username' | 'password' | 'confirm'
type HostValues = Record<HostField, string>
export type HostErrors = Partial<Record<HostField, string>>

const HOST_FIELDS: HostField[] = ['teamName', 'hostAddr', 'displayName', 'username', 'password', 'confirm']

/** What is wrong with the host form, per field (empty when nothing is). */
export function validateHost(values: HostValues): HostErrors {
  const errors: HostErrors = {}
  if (values.teamName.trim() === '') errors.teamName = "Enter the team's name."
  const address = ADDRESS_PATTERN.exec(values.hostAddr.trim())
  if (!address) {
    errors.hostAddr = `Enter an address and a port, like ${DEFAULT_HOST_ADDR}.`
  } else {
    const port = Number(address[2])
    if (port < 1 || port > 65535) errors.hostAddr = 'The port must be between 1 and 65535.'
  }
  if (values.displayName.trim() === '') errors.displayName = 'Enter your name.'
  if (!USERNAME_PATTERN.test(values.username)) {
    errors.username =
      values.username === ''
        ? 'Choose a username.'
        : 'Use 2 to 32 letters, digits, dots, dashes or underscores.'
  }
  if (values.password.length < MIN_PASSWORD_LENGTH) {
    errors.password = `Use at least ${MIN_PASSWORD_LENGTH} characters.`
  }
  if (values.confirm !== values.password) errors.confirm = 'The passwords do not match.'
  return errors
}

function HostForm({
  host,
  addresses,
  onBack,
  onHosted,
}: {
  host: (params: HostParams) => Promise<HostResult>
  /** This computer's addresses for invite links (GET /desktop/addresses); null: no choice. */
  addresses: () => Promise<LanAddresses | null>
  onBack: () => void
  onHosted: (result: HostResult) => void
}) {
  const [lan, setLan] = useState<LanAddresses | null>(null)
  const [lanHost, setLanHost] = useState('')
  useEffect(() => {
    let current = true
    addresses().then(
      (found) => {
        if (!current || !found) return
        setLan(found)
        setLanHost(found.preferred)
      },
      () => {
        // Without the list the app picks the address itself, as it would for --host.
      },
    )
    return () => {
      current = false
    }
  }, [addresses])
  const [values, setValues] = useState<HostValues>({
    teamName: '',
    hostAddr: DEFAULT_HOST_ADDR,
    displayName: '',
    username: '',
    password: '',
    confirm: '',
  })
  const [errors, setErrors] = useState<HostErrors>({})
  const [formError, setFormError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const ids = useId()

  function edit(field: HostField, value: string) {
    setValues((v) => ({ ...v, [field]: value }))
    // An error is cleared as the user fixes it; it is checked again on submit.
    setErrors((e) => {
      if (e[field] === undefined) return e
      const next = { ...e }
      delete next[field]
      return next
    })
  }

  function showErrors(found: HostErrors) {
    setErrors(found)
    const first = HOST_FIELDS.find((field) => found[field] !== undefined)
    if (first) document.getElementById(`${ids}-${first}`)?.focus()
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (busy) return
    setFormError(null)
    const found = validateHost(values)
    if (Object.keys(found).length > 0) {
      showErrors(found)
      return
    }
    setBusy(true)
    try {
      const params: HostParams = {
        hostAddr: values.hostAddr.trim(),
        teamName: values.teamName.trim(),
        username: values.username,
        displayName: values.displayName.trim(),
        password: values.password,
      }
      if (lanHost !== '') params.lanHost = lanHost
      const result = await host(params)
      onHosted(result)
    } catch (err) {
      setBusy(false)
      if (err instanceof ApiRequestError && err.status === 409) {
        showErrors({
          hostAddr: `${err.message} Another program uses this port: choose another, like 0.0.0.0:7879.`,
        })
      } else if (err instanceof ApiRequestError && err.status === 400) {
        setFormError(err.message)
      } else {
        setFormError(`Could not start the team: ${errorMessage(err)}`)
      }
    }
  }

  const field = (name: HostField) => ({
    id: `${ids}-${name}`,
    name,
    value: values[name],
    error: errors[name],
    onChange: (event: { target: { value: string } }) => edit(name, event.target.value),
  })

  return (
    <AuthLayout title="Host a team">
      <div className="auth-intro">
        <p>
          Herald runs your team&apos;s server on this computer while the app is running, and makes you its
          admin.
        </p>
      </div>
      <form className="form" noValidate aria-busy={busy} onSubmit={(event) => void submit(event)}>
        <TextField
          label="Team name"
          maxLength={MAX_TEAM_NAME_LENGTH}
          autoComplete="organization"
          autoFocus
          {...field('teamName')}
        />
        <TextField
          label="Listen address"
          hint={
            <>
              Other people connect to this computer&apos;s address on your network; change the port if 7878 is
              taken.
            </>
          }
          autoCapitalize="none"
          spellCheck={false}
          {...field('hostAddr')}
        />
        {lan && lan.addresses.length > 1 && (
          <div className="field">
            <label htmlFor={`${ids}-lanHost`}>Address in invite links</label>
            <select
              id={`${ids}-lanHost`}
              name="lanHost"
              aria-describedby={`${ids}-lanHost-hint`}
              value={lanHost}
              onChange={(event) => setLanHost(event.target.value)}
            >
              {lan.addresses.map((a) => (
                <option key={`${a.interface} ${a.address}`} value={a.address}>
                  {a.address} ({a.interface}
                  {a.defaultRoute ? ', default route' : ''})
                </option>
              ))}
            </select>
            <small id={`${ids}-lanHost-hint`} className="hint">
              The address your team reaches this computer at. A docker or VPN interface is rarely the right one.
            </small>
          </div>
        )}
        <TextField
          label="Your name"
          hint="How others see you."
          maxLength={MAX_DISPLAY_NAME_LENGTH}
          autoComplete="name"
          {...field('displayName')}
        />
        <TextField
          label="Username"
          hint="2 to 32 letters, digits, dots, dashes or underscores. You sign in with it."
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          {...field('username')}
        />
        <TextField
          label="Password"
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          type="password"
          autoComplete="new-password"
          {...field('password')}
        />
        <TextField label="Confirm password" type="password" autoComplete="new-password" {...field('confirm')} />
        <FormEnd error={formError} busy={busy} onBack={onBack} submit="Host the team" busyLabel="Starting the team…" />
      </form>
    </AuthLayout>
  )
}

interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  id: string
  label: string
  hint?: ReactNode
  error?: string
  inputRef?: Ref<HTMLInputElement>
}

/** A labelled input with its hint and error, both tied to it by aria-describedby. */
function TextField({ id, label, hint, error, inputRef, ...input }: TextFieldProps) {
  const hintId = `${id}-hint`
  const errorId = `${id}-error`
  const describedBy = [error ? errorId : '', hint ? hintId : ''].filter(Boolean).join(' ')
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        ref={inputRef}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {error && (
        <small id={errorId} className="error field-error">
          {error}
        </small>
      )}
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
    </div>
  )
}

/** serverUrl as the user typed it, with http:// added when it has no scheme ('10.0.0.5:7878');
 * null if it is no http(s) URL even so. */
export function normalizeServerUrl(input: string): string | null {
  const trimmed = input.trim()
  if (trimmed === '') return null
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`
  try {
    const url = new URL(withScheme)
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null
    return withScheme
  } catch {
    return null
  }
}

/** A path on this origin, or '/' for anything else the app might answer. */
function samePagePath(next: string): string {
  return next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

/** How often the Join screen asks the app for the teams on the network (ms). */
export const LAN_POLL_MS = 2000
/** The most teams the Join screen lists. */
const MAX_LAN_TEAMS = 20

function JoinForm({
  join,
  lan,
  lanPollMs,
  setBrowsing,
  onBack,
  onJoined,
}: {
  join: (serverUrl: string) => Promise<{ next: string }>
  lan?: () => Promise<LanTeams>
  lanPollMs: number
  setBrowsing?: (on: boolean) => Promise<void>
  onBack: () => void
  onJoined: (next: string) => void
}) {
  const [value, setValue] = useState('')
  const [fieldError, setFieldError] = useState<string | undefined>(undefined)
  const [formError, setFormError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const ids = useId()
  const input = useRef<HTMLInputElement | null>(null)

  useEffect(() => {
    input.current?.focus()
  }, [])

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (busy) return
    setFormError(null)
    const serverUrl = normalizeServerUrl(value)
    if (serverUrl === null) {
      setFieldError(
        value.trim() === ''
          ? "Enter the server's address or your invite link."
          : 'That is not a server address. It looks like http://192.168.1.20:7878.',
      )
      input.current?.focus()
      return
    }
    setBusy(true)
    try {
      const { next } = await join(serverUrl)
      onJoined(samePagePath(next)) // the page goes away; busy stays on until it does
    } catch (err) {
      setBusy(false)
      setFormError(
        err instanceof ApiRequestError && err.status >= 400
          ? err.message
          : `Could not join: ${errorMessage(err)}`,
      )
    }
  }

  const pinned = fingerprintFromLink(value)
  return (
    <AuthLayout title="Join a team">
      <div className="auth-intro">
        <p>Enter the address of your team&apos;s Herald server, or paste the invite link you were sent.</p>
      </div>
      {lan && (
        <LanTeamsList
          lan={lan}
          pollMs={lanPollMs}
          setBrowsing={setBrowsing}
          onPick={(team) => {
            setValue(team.url)
            setFieldError(undefined)
            input.current?.focus()
          }}
        />
      )}
      <form className="form" noValidate aria-busy={busy} onSubmit={(event) => void submit(event)}>
        <TextField
          id={`${ids}-server`}
          name="serverUrl"
          label="Server address or invite link"
          hint="Like http://192.168.1.20:7878, or an invite link ending in /join/…"
          inputMode="url"
          autoCapitalize="none"
          spellCheck={false}
          value={value}
          error={fieldError}
          inputRef={input}
          onChange={(event) => {
            setValue(event.target.value)
            setFieldError(undefined)
          }}
        />
        {pinned && (
          <p className="hint desktop-url">
            Herald will accept only the certificate with the fingerprint <Fingerprint value={pinned} />. Compare it with
            the one the team&apos;s host sees before you connect.
          </p>
        )}
        <FormEnd error={formError} busy={busy} onBack={onBack} submit="Connect" busyLabel="Connecting…" />
      </form>
    </AuthLayout>
  )
}

/**
 * The teams the app finds on the local network (mDNS), asked for every pollMs while the
 * Join screen is open. Picking one fills in its address with the announced fingerprint.
 */
function LanTeamsList({
  lan,
  pollMs,
  setBrowsing,
  onPick,
}: {
  lan: () => Promise<LanTeams>
  pollMs: number
  setBrowsing?: (on: boolean) => Promise<void>
  onPick: (team: LanTeam) => void
}) {
  const [answer, setAnswer] = useState<LanTeams | null>(null)
  const [failed, setFailed] = useState<string | null>(null)
  const [poll, setPoll] = useState(0)
  const ids = useId()

  useEffect(() => {
    let current = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const ask = () => {
      lan().then(
        (a) => {
          if (!current) return
          setAnswer(a)
          setFailed(null)
          if (a.enabled) timer = setTimeout(ask, pollMs)
        },
        (err: unknown) => {
          if (!current) return
          setFailed(errorMessage(err))
          timer = setTimeout(ask, pollMs)
        },
      )
    }
    ask()
    return () => {
      current = false
      clearTimeout(timer)
    }
  }, [lan, poll, pollMs])

  async function toggle(on: boolean) {
    if (!setBrowsing) return
    try {
      await setBrowsing(on)
      setPoll((n) => n + 1)
    } catch (err) {
      setFailed(errorMessage(err))
    }
  }

  const teams = (answer?.teams ?? []).slice(0, MAX_LAN_TEAMS)
  const enabled = answer?.enabled ?? true
  let status: string
  if (!enabled) status = 'Looking for teams on this network is off.'
  else if (answer === null) status = 'Looking for teams on this network…'
  else if (teams.length === 0) status = 'No teams found on this network yet.'
  else status = teams.length === 1 ? '1 team found on this network.' : `${teams.length} teams found on this network.`

  return (
    <section className="desktop-lan" aria-labelledby={`${ids}-lan`}>
      <h2 id={`${ids}-lan`} className="desktop-lan-title">
        Teams on this network
      </h2>
      <p role="status" aria-live="polite" className="hint">
        {status}
      </p>
      {enabled && teams.length > 0 && (
        <ul className="desktop-lan-list">
          {teams.map((team) => {
            const where = `${team.addr.includes(':') ? `[${team.addr}]` : team.addr}:${team.port}`
            return (
              <li key={team.instance}>
                <button type="button" className="desktop-choice desktop-lan-team" onClick={() => onPick(team)}>
                  <span className="desktop-choice-title">{team.name}</span>
                  <span className="desktop-choice-text desktop-url">
                    {where}
                    {team.hostedBy ? ` · hosted by ${team.hostedBy}` : ''}
                  </span>
                </button>
              </li>
            )
          })}
        </ul>
      )}
      {enabled && answer?.error && <p className="hint">The app cannot look on every network: {answer.error}</p>}
      {failed && <p className="error">Could not ask the app for teams on this network: {failed}</p>}
      {setBrowsing && (
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(event) => void toggle(event.target.checked)} />
          Look for teams on this network
        </label>
      )}
    </section>
  )
}

/** The end of both first-run forms: the form's error, Back, and the submit button. */
function FormEnd({
  error,
  busy,
  onBack,
  submit,
  busyLabel,
}: {
  error: string | null | undefined
  busy: boolean
  onBack: () => void
  submit: string
  busyLabel: string
}) {
  return (
    <>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="desktop-actions">
        <button type="button" className="secondary" onClick={onBack} disabled={busy}>
          Back
        </button>
        <button type="submit" className="primary-wide" disabled={busy}>
          {busy ? busyLabel : submit}
        </button>
      </div>
    </>
  )
}

function Hosted({ result, onOpen }: { result: HostResult; onOpen: () => void }) {
  const fingerprint = result.inviteUrl ? fingerprintFromLink(result.inviteUrl) : null
  const [copyNote, setCopyNote] = useState('')
  const ids = useId()
  const linkRef = useRef<HTMLInputElement>(null)
  const openRef = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    openRef.current?.focus()
  }, [])

  async function copy() {
    if (!result.inviteUrl) return
    setCopyNote(
      (await copyText(result.inviteUrl, linkRef.current))
        ? 'Copied.'
        : 'The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.',
    )
  }

  return (
    <AuthLayout title="Your team is ready">
      {result.inviteUrl ? (
        <div className="auth-intro">
          <p>
            Send this invite link to a teammate: it lets one person create an account. You can make more with
            Invite people in Herald.
          </p>
        </div>
      ) : (
        <div className="auth-intro">
          <p>This computer hosts your team again. Its admin can invite people with Invite people in Herald.</p>
        </div>
      )}
      {result.inviteUrl && (
      <div className="field">
        <label htmlFor={`${ids}-invite`}>Invite link</label>
        <div className="copy-row">
          <input
            id={`${ids}-invite`}
            ref={linkRef}
            readOnly
            value={result.inviteUrl}
            onFocus={(event) => event.target.select()}
          />
          <button type="button" className="secondary" onClick={() => void copy()}>
            Copy
          </button>
        </div>
        <small className="hint" aria-live="polite">
          {copyNote}
        </small>
      </div>
      )}
      {result.lanUrl && (
        <p className="auth-note">
          Others on your network reach Herald at <strong className="desktop-url">{result.lanUrl}</strong>
        </p>
      )}
      {fingerprint && (
        <p className="auth-note">
          Its certificate fingerprint (SHA-256) is <Fingerprint value={fingerprint} />. The invite link carries
          it: Herald apps that join with the link accept this certificate only, and the join page shows it to people
          in a browser to compare with this one.
        </p>
      )}
      <button ref={openRef} type="button" className="primary-wide" onClick={onOpen}>
        Open Herald
      </button>
    </AuthLayout>
  )
}

/**
 * Puts text on the clipboard with the Clipboard API; where that is missing or refused, selects
 * the input and tries the old copy command. Reports whether either copied (if not, the text is
 * at least selected for the user to copy).
 */
export async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  const clipboard = (navigator as Partial<Navigator>).clipboard
  if (clipboard) {
    try {
      await clipboard.writeText(text)
      return true
    } catch {
      // Refused (e.g. the window lost focus): fall back.
    }
  }
  if (!input) return false
  input.focus()
  input.select()
  try {
    return typeof document.execCommand === 'function' && document.execCommand('copy')
  } catch {
    return false
  }
}
