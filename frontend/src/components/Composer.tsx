import {
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent,
} from 'react'
import type { AgentStatus, User } from '../api/types'
import type { SendOptions } from '../state/types'
import { Avatar } from './Avatar'
import { searchEmoji } from '../emoji/emoji'
import { rememberEmoji } from '../emoji/recent'
import { useEmoji } from '../emoji/useEmoji'
import './Composer.css'
import { anyLetsThrough, mentionedIds, type QuietPerson, quietSentence, refusedNote } from './quietNotice'
import { UploadButton } from './UploadButton'

/** The server's limit on a message (backend.MaxContentLen), in characters. */
const MAX_CONTENT_LENGTH = 8000

/** The most rows the message box grows to before it scrolls. */
const MAX_ROWS = 8

/** How many suggestions the completion list shows. */
const MAX_SUGGESTIONS = 8

/** A chat member as the @ completion shows them. */
export interface ComposerMember extends Partial<Pick<User, 'kind' | 'avatar' | 'avatarUrl' | 'avatarVersion' | 'avatarColor'>> {
  id: string
  username: string
  displayName: string
  /** Presence; absent: from online, else offline. */
  status?: AgentStatus
  online?: boolean
}

interface ComposerProps {
  /** The chat's title (chatTitle: "#general", a DM's people). */
  title: string
  /** The box's accessible name: "Message" (the chat's), "Reply" (a thread's). */
  label?: string
  /** Default: "Message <title>". */
  placeholder?: string
  /** options.notifyAnyway: the "Notify anyway" toggle was on (it turns off after each send). */
  onSend: (content: string, options?: SendOptions) => void
  /** Called on every edit that leaves text in the box; the store throttles what it sends. */
  onTyped: () => void
  /** Uploads the files chosen with "Attach file"; no button without it. */
  onAttach?: (files: File[]) => void
  /** Whom @ completes to. */
  members?: readonly ComposerMember[]
  /** ArrowUp in an empty box: edit the reader's last message. */
  onEditLast?: () => void
  /** The people the message goes to who are in do not disturb or quiet hours (a DM's peer, or
   * members the draft mentions): the composer says so, and offers "Notify anyway" when it would
   * reach one of them. */
  quiet?: readonly QuietPerson[]
  /** Called with the ids of the members the draft mentions (mentionedIds) when they change. */
  onMentionsChange?: (ids: string[]) => void
}

const NO_QUIET: readonly QuietPerson[] = []

const NO_MEMBERS: readonly ComposerMember[] = []

/** What the text before the caret is completing: @name or :shortcode. */
interface Trigger {
  kind: 'mention' | 'emoji'
  /** Where the @ or : is. */
  start: number
  query: string
}

interface Suggestion {
  key: string
  /** What replaces the trigger. */
  insert: string
  member?: ComposerMember
  emoji?: { native: string; shortcode: string; name: string }
}

/**
 * The message box: Enter sends, Shift+Enter starts a new line. Typing @ suggests the chat's
 * members and :sm (two characters or more) emoji by shortcode; ArrowUp/ArrowDown choose,
 * Enter or Tab inserts (and does not send), Escape closes the list. ArrowUp in an empty box
 * edits the last message. Mount one per chat (key).
 */
export function Composer({
  title,
  label = 'Message',
  placeholder,
  onSend,
  onTyped,
  onAttach,
  members = NO_MEMBERS,
  onEditLast,
  quiet = NO_QUIET,
  onMentionsChange,
}: ComposerProps) {
  const [text, setText] = useState('')
  const [caret, setCaret] = useState(0)
  const [active, setActive] = useState(0)
  // The trigger Escape closed: it stays closed until the caret leaves it.
  const [dismissed, setDismissed] = useState<number | null>(null)
  // The list shows only while the box has focus.
  const [focused, setFocused] = useState(false)
  const box = useRef<HTMLTextAreaElement>(null)
  const caretAfterInsert = useRef<number | null>(null)
  const listId = useId()
  const quietId = useId()
  const content = tidy(text)
  const [notifyAnyway, setNotifyAnyway] = useState(false)
  const offerAnyway = anyLetsThrough(quiet)

  const mentioned = useMemo(() => mentionedIds(text, members).join(','), [text, members])
  useEffect(() => {
    onMentionsChange?.(mentioned === '' ? [] : mentioned.split(','))
  }, [mentioned, onMentionsChange])

  const trigger = useMemo(() => findTrigger(text, caret), [text, caret])
  const { index: emoji } = useEmoji(trigger?.kind === 'emoji')
  const suggestions = useMemo(() => suggest(trigger, members, emoji), [trigger, members, emoji])
  const open =
    focused && trigger !== null && trigger.start !== dismissed && suggestions.length > 0
  const current = Math.min(active, suggestions.length - 1)
  const optionId = (i: number) => `${listId}-${i}`

  useLayoutEffect(() => {
    const at = caretAfterInsert.current
    if (at === null || !box.current) return
    caretAfterInsert.current = null
    box.current.setSelectionRange(at, at)
  }, [text])

  function send() {
    if (content === '') return
    if (offerAnyway && notifyAnyway) onSend(content, { notifyAnyway: true })
    else onSend(content)
    setText('')
    setCaret(0)
    setNotifyAnyway(false)
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    send()
  }

  function insert(suggestion: Suggestion) {
    if (!trigger) return
    const after = text.slice(caret)
    // A mention ends in a space, unless one follows already.
    const spaced = suggestion.member && !/^\s/.test(after)
    const added = spaced ? `${suggestion.insert} ` : suggestion.insert
    const next = text.slice(0, trigger.start) + added + after
    if (next.length > MAX_CONTENT_LENGTH) return
    if (suggestion.emoji) rememberEmoji(suggestion.emoji.native)
    const at = trigger.start + added.length
    caretAfterInsert.current = at
    setText(next)
    setCaret(at)
    setActive(0)
    onTyped()
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // While an input method is composing (e.g. Japanese), Enter confirms the composition. WebKit
    // ends the composition before that Enter's keydown (isComposing is false); its keyCode 229
    // still says an input method handled the key.
    const composing = event.nativeEvent.isComposing || event.nativeEvent.keyCode === 229
    if (composing) return
    if (open) {
      const chosen = suggestions[current]
      switch (event.key) {
        case 'ArrowDown':
          event.preventDefault()
          setActive((current + 1) % suggestions.length)
          return
        case 'ArrowUp':
          event.preventDefault()
          setActive((current - 1 + suggestions.length) % suggestions.length)
          return
        case 'Enter':
        case 'Tab':
          if (event.shiftKey || !chosen) break
          event.preventDefault()
          insert(chosen)
          return
        case 'Escape':
          event.preventDefault()
          // Whatever else Escape does around the composer waits for the next one.
          event.stopPropagation()
          setDismissed(trigger.start)
          return
      }
    }
    const modified = event.shiftKey || event.altKey || event.ctrlKey || event.metaKey
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault()
      send()
    } else if (event.key === 'ArrowUp' && !modified && text === '' && onEditLast) {
      event.preventDefault()
      onEditLast()
    }
  }

  function caretMoved(element: HTMLTextAreaElement) {
    setCaret(element.selectionStart)
    const moved = findTrigger(element.value, element.selectionStart)
    if (moved?.start !== dismissed) setDismissed(null)
  }

  return (
    <form className="composer" onSubmit={submit}>
      {open && (
        <ul
          id={listId}
          className="completions"
          role="listbox"
          aria-label={trigger.kind === 'mention' ? 'People' : 'Emoji'}
        >
          {suggestions.map((suggestion, i) => (
            <li
              key={suggestion.key}
              id={optionId(i)}
              role="option"
              aria-selected={i === current}
              className={i === current ? 'completion active' : 'completion'}
              // The box keeps focus: a press must not blur it.
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => insert(suggestion)}
              onMouseMove={() => {
                if (i !== current) setActive(i)
              }}
            >
              {suggestion.member && <MemberOption member={suggestion.member} />}
              {suggestion.emoji && (
                <>
                  <span className="completion-emoji" aria-hidden="true">
                    {suggestion.emoji.native}
                  </span>
                  <span className="completion-main">:{suggestion.emoji.shortcode}:</span>
                  <span className="completion-detail">{suggestion.emoji.name}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {/* A live region, not role=status: the page's status is the connection's. */}
      <p className="visually-hidden completion-count" aria-live="polite">
        {open ? plural(suggestions.length, 'suggestion') : ''}
      </p>
      {/* Polite: said when it appears (a DM opens, a quiet person is mentioned), not interrupting. */}
      <div className="quiet-live" aria-live="polite">
        {quiet.length > 0 && (
          <div className="quiet-notice">
            <svg className="quiet-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
              <path d="M6 1.5a6.5 6.5 0 1 0 8.5 8.3A5.5 5.5 0 0 1 6 1.5Z" fill="currentColor" />
            </svg>
            <p id={quietId} className="quiet-text">
              {quiet.map((person) => (
                <span key={person.silence.userId}>{quietSentence(person)} </span>
              ))}
              {offerAnyway && refusedNote(quiet) && <span>{refusedNote(quiet)}</span>}
            </p>
            {offerAnyway && (
              <label className="notify-anyway">
                <input
                  type="checkbox"
                  role="switch"
                  checked={notifyAnyway}
                  aria-describedby={quietId}
                  onChange={(event) => setNotifyAnyway(event.target.checked)}
                />
                Notify anyway
              </label>
            )}
          </div>
        )}
      </div>
      {onAttach && <UploadButton onFiles={onAttach} />}
      <textarea
        ref={box}
        aria-label={label}
        // A textarea stays a textbox (a combobox role would make it single-line to screen
        // readers, and ARIA gives a textbox no aria-expanded): the list is its popup, and the
        // active option is its active descendant.
        aria-autocomplete="list"
        aria-haspopup="listbox"
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open ? optionId(current) : undefined}
        // Opening a chat puts the cursor in its message box, as chat apps do.
        autoFocus
        placeholder={placeholder ?? `Message ${title}`}
        rows={Math.min(MAX_ROWS, text.split('\n').length)}
        maxLength={MAX_CONTENT_LENGTH}
        value={text}
        onChange={(event) => {
          setText(event.target.value)
          caretMoved(event.target)
          setActive(0)
          if (event.target.value.trim() !== '') onTyped()
        }}
        onSelect={(event) => caretMoved(event.currentTarget)}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        onKeyDown={keyDown}
      />
      <button type="submit" disabled={content === ''}>
        Send
      </button>
    </form>
  )
}

function MemberOption({ member }: { member: ComposerMember }) {
  const status = presence(member)
  return (
    <>
      <span className={`presence presence-${status}`} aria-hidden="true" />
      <Avatar user={member} size={18} />
      <bdi className="completion-main">{member.displayName || member.username}</bdi>
      <span className="completion-detail">@{member.username}</span>
      <span className="visually-hidden">, {status}</span>
    </>
  )
}

function presence(member: ComposerMember): AgentStatus {
  return member.status ?? (member.online ? 'online' : 'offline')
}

// @ after the start or a character that cannot be in a username (as backend.Mentions reads it);
// : after the start, white space or an opening parenthesis (not in 12:30 or https://), then two
// shortcode characters or more.
const MENTION_BEFORE_CARET = /(?:^|[^A-Za-z0-9._-])@([A-Za-z0-9._-]*)$/
const SHORTCODE_BEFORE_CARET = /(?:^|[\s(]):([A-Za-z0-9_+-]{2,})$/

/** What the text just before caret is completing, if anything. */
export function findTrigger(text: string, caret: number): Trigger | null {
  const before = text.slice(0, caret)
  const mention = MENTION_BEFORE_CARET.exec(before)
  if (mention) {
    const query = mention[1] ?? ''
    return { kind: 'mention', start: caret - query.length - 1, query }
  }
  const shortcode = SHORTCODE_BEFORE_CARET.exec(before)
  if (shortcode) {
    const query = shortcode[1] ?? ''
    return { kind: 'emoji', start: caret - query.length - 1, query }
  }
  return null
}

function suggest(
  trigger: Trigger | null,
  members: readonly ComposerMember[],
  emoji: ReturnType<typeof useEmoji>['index'],
): Suggestion[] {
  if (!trigger) return []
  if (trigger.kind === 'emoji') {
    if (!emoji) return []
    return searchEmoji(emoji, trigger.query, MAX_SUGGESTIONS).map((e) => ({
      key: e.id,
      insert: e.native,
      emoji: { native: e.native, shortcode: e.id, name: e.name },
    }))
  }
  const query = trigger.query.toLowerCase()
  const matches = (member: ComposerMember) =>
    member.username.toLowerCase().startsWith(query) ||
    member.displayName
      .toLowerCase()
      .split(/\s+/)
      .some((word) => word.startsWith(query))
  return members
    .filter(matches)
    .sort(
      (a, b) =>
        Number(!a.username.startsWith(query)) - Number(!b.username.startsWith(query)) ||
        a.username.localeCompare(b.username),
    )
    .slice(0, MAX_SUGGESTIONS)
    .map((member) => ({ key: member.id, insert: `@${member.username}`, member }))
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Drops leading blank lines and trailing white space; keeps indentation of the first line. */
function tidy(text: string): string {
  return text.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd()
}
