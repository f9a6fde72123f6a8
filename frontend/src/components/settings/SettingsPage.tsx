import { useCallback, useEffect, useId, useReducer, useRef, useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/client'
import type { BreakThrough, Chat, NotificationKind, Preferences } from '../../api/types'
import { isDesktopApp, permission, requestPermission } from '../../notifications/browserNotifier'
import { defaultSoundFor, isSoundName, SOUND_NAMES, SoundPlayer } from '../../notifications/sounds'
import { DesktopTeamSettings } from '../../desktop/DesktopTeamSettings'
import type { Member } from '../../state/types'
import type { EventStream } from '../../stream/types'
import { chatTitle } from '../chatNames'
import {
  browserTimeZone,
  describeDnd,
  dndEnd,
  dndForPreset,
  exportJson,
  normalize,
  parseImport,
  samePreferences,
  SETTINGS_KIND_LABELS,
  SETTINGS_KINDS,
  timeZones,
  toastSecondsChoices,
  validClock,
  type DndPreset,
} from './preferencesModel'
import './settings.css'
import { SettingsTabs } from './SettingsTabs'

/** What the settings page needs of the API client. */
export interface SettingsApi {
  getPreferences(): Promise<Preferences>
  /** Stores the whole object; rejects with the server's error (400) if it is invalid. */
  putPreferences(preferences: Preferences): Promise<Preferences>
}

interface SettingsPageProps {
  api: SettingsApi
  /** PREFERENCES_CHANGED from the user's other devices updates the form. */
  stream: Pick<EventStream, 'onEvent'>
  /** The user's chats, to mute. */
  chats: readonly Chat[]
  /** The directory and the signed-in user: a DM is named by its other people. */
  users: Record<string, Member>
  meId: string
  /** The clock (Unix ms); tests pass their own. */
  now?: () => number
}

interface FormState {
  /** What the server stored, as last heard. */
  saved: Preferences | null
  /** What the form shows. */
  draft: Preferences | null
  /** Another device changed the settings while this form had unsaved changes. */
  remoteChanged: boolean
  /** PUTs in flight: their PREFERENCES_CHANGED echo is this device's own change. */
  sending: Preferences[]
}

type FormAction =
  | { type: 'loaded'; preferences: Preferences }
  | { type: 'edit'; change: (draft: Preferences) => Preferences }
  /** PREFERENCES_CHANGED: the form follows unless it has changes of its own. */
  | { type: 'remote'; preferences: Preferences }
  /** A PUT of sent answered stored. */
  | { type: 'stored'; sent: Preferences; stored: Preferences }
  /** Do-not-disturb was applied at once, besides the form's other changes. */
  | { type: 'dnd'; stored: Preferences }
  | { type: 'revert' }
  | { type: 'sending'; preferences: Preferences }
  | { type: 'settled'; preferences: Preferences }

function reduce(state: FormState, action: FormAction): FormState {
  switch (action.type) {
    case 'loaded':
      return { ...state, saved: action.preferences, draft: action.preferences, remoteChanged: false }
    case 'edit':
      return state.draft ? { ...state, draft: action.change(state.draft) } : state
    case 'remote': {
      const { saved, draft } = state
      if (!saved || !draft || samePreferences(saved, draft)) {
        return { ...state, saved: action.preferences, draft: action.preferences, remoteChanged: false }
      }
      // Nothing new (e.g. the echo of this form's own PUT after its answer).
      if (samePreferences(saved, action.preferences)) return state
      if (state.sending.some((sent) => samePreferences(sent, action.preferences))) {
        // The echo of this form's own PUT, ahead of its answer: as the answer will.
        return {
          ...state,
          saved: action.preferences,
          draft: { ...draft, doNotDisturb: action.preferences.doNotDisturb ?? null },
        }
      }
      return {
        ...state,
        saved: action.preferences,
        remoteChanged: !samePreferences(draft, action.preferences),
      }
    }
    case 'stored': {
      const unchanged = state.draft !== null && samePreferences(state.draft, action.sent)
      return {
        ...state,
        saved: action.stored,
        draft: unchanged ? action.stored : state.draft,
        remoteChanged: false,
      }
    }
    case 'dnd':
      return {
        ...state,
        saved: action.stored,
        draft: state.draft && { ...state.draft, doNotDisturb: action.stored.doNotDisturb ?? null },
      }
    case 'revert':
      return { ...state, draft: state.saved, remoteChanged: false }
    case 'sending':
      return { ...state, sending: [...state.sending, action.preferences] }
    case 'settled':
      return { ...state, sending: state.sending.filter((sent) => sent !== action.preferences) }
  }
}

type SaveState =
  | { status: 'idle' }
  | { status: 'saving' }
  | { status: 'saved' }
  | { status: 'failed'; message: string }

const DND_PRESETS: { preset: DndPreset; label: string }[] = [
  { preset: 'hour', label: 'For 1 hour' },
  { preset: 'morning', label: 'Until tomorrow 08:00' },
  { preset: 'indefinitely', label: 'Until I turn it off' },
  { preset: 'off', label: 'Turn off' },
]

const EXPORT_FILE_NAME = 'herald-settings.json'

/** Every notification preference (docs/API.md "Preferences"), saved with GET/PUT
 * /api/preferences. Do-not-disturb and imports apply at once; the rest is saved with Save. */
export function SettingsPage({ api, stream, chats, users, meId, now = Date.now }: SettingsPageProps) {
  const [{ saved, draft, remoteChanged }, dispatch] = useReducer(reduce, {
    saved: null,
    draft: null,
    remoteChanged: false,
    sending: [],
  })
  const [loadError, setLoadError] = useState<string | null>(null)
  const [loadAttempt, setLoadAttempt] = useState(0)
  const [saveState, setSaveState] = useState<SaveState>({ status: 'idle' })
  const headingId = useId()
  const errorId = useId()

  useEffect(() => {
    let current = true
    api.getPreferences().then(
      (preferences) => {
        if (!current) return
        setLoadError(null)
        dispatch({ type: 'loaded', preferences: normalize(preferences) })
      },
      (err: unknown) => {
        if (current) setLoadError(errorMessage(err))
      },
    )
    return () => {
      current = false
    }
  }, [api, loadAttempt])

  useEffect(
    () =>
      stream.onEvent((event) => {
        if (event.type === 'PREFERENCES_CHANGED' && event.preferences) {
          dispatch({ type: 'remote', preferences: normalize(event.preferences) })
        } else if (event.type === 'RESYNC') {
          // Changes may have been missed: ask again (the form keeps its own changes).
          api.getPreferences().then(
            (preferences) => dispatch({ type: 'remote', preferences: normalize(preferences) }),
            () => {},
          )
        }
      }),
    [api, stream],
  )

  const dirty = saved !== null && draft !== null && !samePreferences(saved, draft)

  const edit = useCallback((change: (draft: Preferences) => Preferences) => {
    dispatch({ type: 'edit', change })
    setSaveState((s) => (s.status === 'saved' ? { status: 'idle' } : s))
  }, [])

  const quietProblem = draft?.quietHours ? quietHoursProblem(draft.quietHours) : null

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    if (!draft || saveState.status === 'saving') return
    if (quietProblem) {
      setSaveState({ status: 'failed', message: quietProblem })
      return
    }
    setSaveState({ status: 'saving' })
    try {
      const stored = await send(draft)
      dispatch({ type: 'stored', sent: draft, stored })
      setSaveState({ status: 'saved' })
    } catch (err) {
      setSaveState({ status: 'failed', message: errorMessage(err) })
    }
  }

  /** PUTs preferences, telling the reducer so that their echo is not taken for another device's. */
  async function send(preferences: Preferences): Promise<Preferences> {
    dispatch({ type: 'sending', preferences })
    try {
      return normalize(await api.putPreferences(preferences))
    } finally {
      dispatch({ type: 'settled', preferences })
    }
  }

  /** Stores the saved settings with change applied, apart from the form's unsaved changes.
   * Returns the server's error, if any. */
  async function apply(change: Partial<Preferences>, replaceForm: boolean): Promise<string | null> {
    if (!saved) return null
    try {
      const stored = await send({ ...saved, ...change })
      dispatch(replaceForm ? { type: 'loaded', preferences: stored } : { type: 'dnd', stored })
      return null
    } catch (err) {
      return errorMessage(err)
    }
  }

  if (!draft || !saved) {
    return (
      <section className="settings" aria-labelledby={headingId}>
        <SettingsHeader headingId={headingId} />
        {loadError ? (
          <div className="settings-body">
            <p className="error" role="alert">
              Could not load your settings: {loadError}
            </p>
            <button type="button" className="secondary" onClick={() => setLoadAttempt((n) => n + 1)}>
              Try again
            </button>
            <DesktopTeamSettings />
          </div>
        ) : (
          <p className="page-status">Loading settings…</p>
        )}
      </section>
    )
  }

  const failed = saveState.status === 'failed'

  return (
    <section className="settings" aria-labelledby={headingId}>
      <SettingsHeader headingId={headingId} />
      <div className="settings-body">
        {remoteChanged && (
          <div className="settings-notice" role="status">
            <p>These settings were changed on another device.</p>
            <button type="button" className="secondary small" onClick={() => dispatch({ type: 'revert' })}>
              Show their settings
            </button>
          </div>
        )}
        <DoNotDisturbSection
          saved={saved}
          now={now}
          onPreset={(preset) => apply({ doNotDisturb: dndForPreset(preset, now()) }, false)}
        />
        <form
          className="settings-form"
          aria-labelledby={headingId}
          aria-describedby={failed ? errorId : undefined}
          onSubmit={(event) => void save(event)}
          noValidate
        >
          <KindsSection draft={draft} edit={edit} />
          <ToastsSection draft={draft} edit={edit} />
          <SoundsSection draft={draft} edit={edit} />
          <NativeSection draft={draft} edit={edit} />
          <QuietHoursSection draft={draft} edit={edit} problem={quietProblem} />
          <fieldset className="settings-group">
            <legend>Critical alerts</legend>
            <label className="check">
              <input
                type="checkbox"
                checked={draft.criticalBreaksThrough}
                onChange={(e) => edit((d) => ({ ...d, criticalBreaksThrough: e.target.checked }))}
              />
              Critical system alerts break through do not disturb and quiet hours
            </label>
          </fieldset>
          <BreakThroughSection draft={draft} edit={edit} />
          <MutedChatsSection draft={draft} edit={edit} chats={chats} users={users} meId={meId} />
          <div className="settings-actions">
            <p className="settings-state" role="status">
              {saveState.status === 'saving'
                ? 'Saving…'
                : dirty
                  ? 'Unsaved changes'
                  : saveState.status === 'saved'
                    ? 'Saved'
                    : 'All changes saved'}
            </p>
            {failed && (
              <p id={errorId} className="error settings-error" role="alert">
                Not saved: {saveState.message}
              </p>
            )}
            <div className="settings-buttons">
              <button
                type="button"
                className="secondary"
                disabled={!dirty || saveState.status === 'saving'}
                onClick={() => {
                  dispatch({ type: 'revert' })
                  setSaveState({ status: 'idle' })
                }}
              >
                Discard changes
              </button>
              <button type="submit" disabled={!dirty || saveState.status === 'saving'}>
                Save
              </button>
            </div>
          </div>
        </form>
        <ImportExportSection
          saved={saved}
          onImport={(preferences) => {
            setSaveState({ status: 'idle' })
            return apply(preferences, true)
          }}
        />
        <DesktopTeamSettings />
      </div>
    </section>
  )
}

function SettingsHeader({ headingId }: { headingId: string }) {
  return <SettingsTabs current="notifications" headingId={headingId} title="Notification settings" />
}

interface SectionProps {
  draft: Preferences
  edit: (change: (draft: Preferences) => Preferences) => void
}

function DoNotDisturbSection({
  saved,
  now,
  onPreset,
}: {
  saved: Preferences
  now: () => number
  /** Resolves with the server's error, if any. */
  onPreset: (preset: DndPreset) => Promise<string | null>
}) {
  const [tick, setTick] = useState(0)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const at = now()
  const end = dndEnd(saved.doNotDisturb, at)
  // Show "off" as soon as a timed do-not-disturb ends.
  useEffect(() => {
    if (end === null || end === Infinity) return
    const timer = setTimeout(() => setTick((n) => n + 1), Math.min(end - now() + 50, 2 ** 31 - 1))
    return () => clearTimeout(timer)
  }, [end, now, tick])

  return (
    <fieldset className="settings-group">
      <legend>Do not disturb</legend>
      <p className={end === null ? 'dnd-state' : 'dnd-state dnd-on'} role="status">
        {describeDnd(saved.doNotDisturb, at)}
      </p>
      <p className="hint">
        Nothing notifies you while it is on (critical alerts may, see below). Applies at once.
      </p>
      <div className="dnd-presets">
        {DND_PRESETS.map(({ preset, label }) => (
          <button
            key={preset}
            type="button"
            className="secondary small"
            disabled={busy || (preset === 'off' && end === null)}
            onClick={() => {
              setBusy(true)
              setError(null)
              void onPreset(preset).then((message) => {
                setBusy(false)
                setError(message)
              })
            }}
          >
            {label}
          </button>
        ))}
      </div>
      {error && (
        <p className="error" role="alert">
          Could not change do not disturb: {error}
        </p>
      )}
    </fieldset>
  )
}

function KindsSection({ draft, edit }: SectionProps) {
  return (
    <fieldset className="settings-group">
      <legend>Notify me about</legend>
      <div className="check-grid">
        {SETTINGS_KINDS.map((kind) => (
          <label key={kind} className="check">
            <input
              type="checkbox"
              checked={draft.kinds[kind] !== false}
              onChange={(e) => {
                const on = e.target.checked
                edit((d) => {
                  const kinds = { ...d.kinds }
                  if (on) delete kinds[kind]
                  else kinds[kind] = false
                  return { ...d, kinds }
                })
              }}
            />
            {SETTINGS_KIND_LABELS[kind]}
          </label>
        ))}
      </div>
      <p className="hint">Turned-off kinds are still listed in the notification center, silently.</p>
    </fieldset>
  )
}

function ToastsSection({ draft, edit }: SectionProps) {
  const selectId = useId()
  const hintId = useId()
  return (
    <fieldset className="settings-group">
      <legend>Pop-up notifications</legend>
      <div className="toast-seconds">
        <label htmlFor={selectId}>Keep notifications on screen for</label>
        <select
          id={selectId}
          aria-describedby={hintId}
          value={draft.toastSeconds}
          onChange={(e) => {
            const seconds = Number.parseInt(e.target.value, 10)
            edit((d) => ({ ...d, toastSeconds: seconds }))
          }}
        >
          {toastSecondsChoices(draft.toastSeconds).map((seconds) => (
            <option key={seconds} value={seconds}>
              {`${seconds} seconds`}
            </option>
          ))}
        </select>
      </div>
      <p id={hintId} className="hint">
        While you point at or focus one, it stays. Critical alerts stay until you dismiss them.
      </p>
    </fieldset>
  )
}

function SoundsSection({ draft, edit }: SectionProps) {
  const volumeId = useId()
  const player = useRef<SoundPlayer | null>(null)
  const percent = Math.round(draft.volume * 100)

  function preview(kind: NotificationKind) {
    player.current ??= new SoundPlayer()
    const name = draft.soundByKind[kind]
    player.current.play(isSoundName(name) ? name : defaultSoundFor(kind), draft.volume)
  }

  return (
    <fieldset className="settings-group">
      <legend>Sounds</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.sounds}
          onChange={(e) => edit((d) => ({ ...d, sounds: e.target.checked }))}
        />
        Play sounds
      </label>
      <div className="volume">
        <label htmlFor={volumeId}>Volume</label>
        <input
          id={volumeId}
          type="range"
          min={0}
          max={100}
          step={5}
          value={percent}
          aria-valuetext={`${percent}%`}
          disabled={!draft.sounds}
          onChange={(e) => {
            const value = Number(e.target.value) / 100
            edit((d) => ({ ...d, volume: value }))
          }}
        />
        <output htmlFor={volumeId}>{percent}%</output>
      </div>
      <table className="sound-table">
        <caption className="visually-hidden">Sound for each kind</caption>
        <tbody>
          {SETTINGS_KINDS.map((kind) => (
            <SoundRow
              key={kind}
              kind={kind}
              value={draft.soundByKind[kind] ?? defaultSoundFor(kind)}
              disabled={!draft.sounds}
              onChange={(name) =>
                edit((d) => {
                  const soundByKind = { ...d.soundByKind }
                  if (name === defaultSoundFor(kind)) delete soundByKind[kind]
                  else soundByKind[kind] = name
                  return { ...d, soundByKind }
                })
              }
              onPreview={() => preview(kind)}
            />
          ))}
        </tbody>
      </table>
    </fieldset>
  )
}

function SoundRow({
  kind,
  value,
  disabled,
  onChange,
  onPreview,
}: {
  kind: NotificationKind
  value: string
  disabled: boolean
  onChange: (name: string) => void
  onPreview: () => void
}) {
  const selectId = useId()
  const label = SETTINGS_KIND_LABELS[kind]
  const names: readonly string[] = isSoundName(value) ? SOUND_NAMES : [...SOUND_NAMES, value]
  return (
    <tr>
      <th scope="row">
        <label htmlFor={selectId}>{`Sound for ${label.toLowerCase()}`}</label>
      </th>
      <td>
        <select id={selectId} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </td>
      <td>
        <button
          type="button"
          className="secondary small"
          aria-label={`Preview sound for ${label.toLowerCase()}`}
          disabled={disabled}
          onClick={onPreview}
        >
          <span aria-hidden="true">▶ </span>Preview
        </button>
      </td>
    </tr>
  )
}

function NativeSection({ draft, edit }: SectionProps) {
  const desktop = isDesktopApp()
  const [state, setState] = useState(() => permission())

  // The user may change the permission in the browser's site settings meanwhile.
  useEffect(() => {
    if (desktop) return
    const refresh = () => setState(permission())
    window.addEventListener('focus', refresh)
    document.addEventListener('visibilitychange', refresh)
    return () => {
      window.removeEventListener('focus', refresh)
      document.removeEventListener('visibilitychange', refresh)
    }
  }, [desktop])

  return (
    <fieldset className="settings-group">
      <legend>Desktop notifications</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.native}
          onChange={(e) => edit((d) => ({ ...d, native: e.target.checked }))}
        />
        {desktop ? 'Show notifications from the desktop app' : 'Show browser notifications when Herald is in the background'}
      </label>
      {desktop ? (
        <p className="hint">In the desktop app, notifications come from the app itself, not from the browser.</p>
      ) : (
        <div className="permission">
          <p className="hint" role="status">
            {permissionText(state)}
          </p>
          {(state === 'default' || state === 'denied') && (
            <button
              type="button"
              className="secondary small"
              onClick={() => void requestPermission().then(setState, () => setState(permission()))}
            >
              {state === 'default' ? 'Allow' : 'Ask again'}
            </button>
          )}
        </div>
      )}
    </fieldset>
  )
}

function permissionText(state: string): string {
  switch (state) {
    case 'granted':
      return 'This browser allows Herald to notify you.'
    case 'default':
      return 'This browser has not been asked yet.'
    case 'denied':
      return 'This browser blocks notifications from Herald. Allow them in the site settings (the icon beside the address), then ask again.'
    default:
      return 'This browser cannot show notifications.'
  }
}

const DEFAULT_QUIET_HOURS = { start: '22:00', end: '07:00' }

function QuietHoursSection({ draft, edit, problem }: SectionProps & { problem: string | null }) {
  const startId = useId()
  const endId = useId()
  const zoneId = useId()
  const problemId = useId()
  // Turning quiet hours off and on again brings back the times entered before.
  const [last, setLast] = useState(draft.quietHours)
  const quiet = draft.quietHours
  const zones = timeZones(quiet?.timeZone, browserTimeZone())

  function change(field: 'start' | 'end' | 'timeZone', value: string) {
    edit((d) => (d.quietHours ? { ...d, quietHours: { ...d.quietHours, [field]: value } } : d))
  }

  return (
    <fieldset className="settings-group" aria-describedby={problem ? problemId : undefined}>
      <legend>Quiet hours</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={quiet !== null && quiet !== undefined}
          onChange={(e) => {
            const on = e.target.checked
            if (!on) setLast(quiet)
            edit((d) => ({
              ...d,
              quietHours: on ? (last ?? { ...DEFAULT_QUIET_HOURS, timeZone: browserTimeZone() }) : null,
            }))
          }}
        />
        Silence notifications every day
      </label>
      {quiet && (
        <div className="quiet-fields">
          <div className="field">
            <label htmlFor={startId}>From</label>
            <input
              id={startId}
              type="time"
              required
              value={quiet.start}
              aria-invalid={!validClock(quiet.start) || undefined}
              onChange={(e) => change('start', e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={endId}>Until</label>
            <input
              id={endId}
              type="time"
              required
              value={quiet.end}
              aria-invalid={!validClock(quiet.end) || undefined}
              onChange={(e) => change('end', e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={zoneId}>Time zone</label>
            <select id={zoneId} value={quiet.timeZone} onChange={(e) => change('timeZone', e.target.value)}>
              {zones.map((zone) => (
                <option key={zone} value={zone}>
                  {zone.replaceAll('_', ' ')}
                </option>
              ))}
            </select>
          </div>
        </div>
      )}
      {problem && (
        <p id={problemId} className="error">
          {problem}
        </p>
      )}
      <p className="hint">
        On the wall clock of the time zone, following its daylight-saving changes. A start after the end spans
        midnight.
      </p>
    </fieldset>
  )
}

function quietHoursProblem(quiet: NonNullable<Preferences['quietHours']>): string | null {
  if (!validClock(quiet.start)) return 'Enter the time quiet hours start, like 22:00.'
  if (!validClock(quiet.end)) return 'Enter the time quiet hours end, like 07:00.'
  return null
}

function MutedChatsSection({
  draft,
  edit,
  chats,
  users,
  meId,
}: SectionProps & { chats: readonly Chat[]; users: Record<string, Member>; meId: string }) {
  const titled = chats.map((chat) => ({ chat, title: chatTitle(chat, users, meId) }))
  const sorted = titled.sort((a, b) => a.title.localeCompare(b.title))
  return (
    <fieldset className="settings-group">
      <legend>Muted chats</legend>
      <p className="hint">New messages in a muted chat do not notify you; mentions of you still do.</p>
      {sorted.length === 0 ? (
        <p className="muted">You are not in any chat.</p>
      ) : (
        <ul className="muted-chats">
          {sorted.map(({ chat, title }) => (
            <li key={chat.id}>
              <label className="check">
                <input
                  type="checkbox"
                  aria-label={`Mute ${title}`}
                  checked={draft.mutedChats.includes(chat.id)}
                  onChange={(e) => {
                    const mute = e.target.checked
                    edit((d) => ({
                      ...d,
                      mutedChats: mute
                        ? [...d.mutedChats.filter((id) => id !== chat.id), chat.id]
                        : d.mutedChats.filter((id) => id !== chat.id),
                    }))
                  }}
                />
                <bdi>{title}</bdi>
              </label>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  )
}

function ImportExportSection({
  saved,
  onImport,
}: {
  saved: Preferences
  /** Resolves with the server's error, if any. */
  onImport: (preferences: Partial<Preferences>) => Promise<string | null>
}) {
  const fileInput = useRef<HTMLInputElement>(null)
  const [importError, setImportError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [imported, setImported] = useState(false)

  function exportFile() {
    const blob = new Blob([exportJson(saved)], { type: 'application/json' })
    const url = URL.createObjectURL(blob)
    const link = document.createElement('a')
    link.href = url
    link.download = EXPORT_FILE_NAME
    link.hidden = true
    document.body.append(link)
    link.click()
    link.remove()
    // Revoke after the click has been handled: some browsers start the download asynchronously.
    setTimeout(() => URL.revokeObjectURL(url), 0)
  }

  async function importFile(file: File) {
    setImportError(null)
    setImported(false)
    const parsed = parseImport(await file.text())
    if (!parsed.ok) {
      setImportError(parsed.error)
      return
    }
    setBusy(true)
    const error = await onImport(parsed.preferences)
    setBusy(false)
    setImportError(error)
    setImported(error === null)
  }

  return (
    <section className="settings-group settings-transfer" aria-label="Import and export">
      <h2>Import and export</h2>
      <p className="hint">
        Export saves your stored settings as a JSON file; import replaces them with a file&apos;s (the server
        checks it first).
      </p>
      <div className="settings-buttons">
        <button type="button" className="secondary" onClick={exportFile}>
          Export
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => fileInput.current?.click()}>
          Import…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          aria-label="Settings file to import"
          hidden
          onChange={(e) => {
            const file = e.target.files?.[0]
            e.target.value = '' // the same file again is a new choice
            if (file) void importFile(file)
          }}
        />
      </div>
      {importError && (
        <p className="error" role="alert">
          Not imported: {importError}
        </p>
      )}
      {imported && (
        <p className="hint" role="status">
          Imported and saved.
        </p>
      )}
    </section>
  )
}

/** The choices of "Let people break through my quiet hours" (backend BreakThroughs). */
const BREAK_THROUGH_CHOICES: readonly { value: BreakThrough; label: string }[] = [
  { value: 'off', label: 'Off' },
  { value: 'dms', label: 'For direct messages' },
  { value: 'always', label: 'Always (direct messages and mentions)' },
]

function BreakThroughSection({ draft, edit }: SectionProps) {
  const hintId = useId()
  return (
    <fieldset className="settings-group" aria-describedby={hintId}>
      <legend>Let people break through my quiet hours</legend>
      <p className="hint" id={hintId}>
        When someone chooses &ldquo;Notify anyway&rdquo; while you are in do not disturb or quiet hours, you are notified
        — at most 3 times an hour by the same person.
      </p>
      {BREAK_THROUGH_CHOICES.map((choice) => (
        <label className="check" key={choice.value}>
          <input
            type="radio"
            name="breakThrough"
            value={choice.value}
            checked={draft.breakThrough === choice.value}
            onChange={() => edit((d) => ({ ...d, breakThrough: choice.value }))}
          />
          {choice.label}
        </label>
      ))}
    </fieldset>
  )
}
