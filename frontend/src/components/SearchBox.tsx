// Message search in the app bar: a combobox whose results (a listbox grouped by chat) open under
// it. Typing searches after a pause; Enter searches at once or opens the active result; arrows
// move through the results; Escape closes them; Ctrl/Cmd+K focuses the box from anywhere.
import { useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react'
import { errorMessage, type SearchPage, type SearchParams, type SearchResult } from '../api/client'
import type { Chat } from '../api/types'
import type { Member } from '../state/types'
import { relativeTime } from '../notifications/kinds'
import { messagePath, navigate } from '../router'
import { chatTitle } from './chatNames'
import { threadOnly } from './messageActions'
import { personName } from './names'

/** Typing searches this long after the last keystroke (ms). */
export const SEARCH_DEBOUNCE_MS = 300
/** A request taking longer than this shows the spinner (ms). */
const SPINNER_AFTER_MS = 250
const PAGE = 20

interface SearchBoxProps {
  search: (params: SearchParams) => Promise<SearchPage>
  chats: readonly Chat[]
  users: Record<string, Member>
  /** The signed-in user: a DM is named by its other people. */
  meId: string
  /** Opens an in-app path (router.navigate by default). */
  go?: (path: string) => void
}

type State =
  | { status: 'idle' }
  | { status: 'loading'; results: SearchResult[]; nextCursor?: string; more: boolean }
  | { status: 'done'; results: SearchResult[]; nextCursor?: string }
  | { status: 'failed'; results: SearchResult[]; nextCursor?: string; message: string }

export function SearchBox({ search, chats, users, meId, go = navigate }: SearchBoxProps) {
  const [query, setQuery] = useState('')
  const [chatId, setChatId] = useState('')
  const [from, setFrom] = useState('')
  const [open, setOpen] = useState(false)
  const [state, setState] = useState<State>({ status: 'idle' })
  const [active, setActive] = useState(-1)
  const [slow, setSlow] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  const wrap = useRef<HTMLDivElement>(null)
  const request = useRef(0)
  const listboxId = useId()
  const optionPrefix = useId()
  const q = query.trim()

  const run = useCallback(
    (params: { q: string; chatId: string; from: string; cursor?: string }) => {
      const seq = ++request.current
      if (params.q === '') {
        setState({ status: 'idle' })
        return
      }
      const more = params.cursor !== undefined
      setState((s) => ({
        status: 'loading',
        results: more && s.status !== 'idle' ? s.results : [],
        nextCursor: undefined,
        more,
      }))
      if (!more) setActive(-1)
      setSlow(false)
      const spinner = setTimeout(() => {
        if (seq === request.current) setSlow(true)
      }, SPINNER_AFTER_MS)
      const query: SearchParams = { q: params.q, limit: PAGE }
      if (params.chatId) query.chatId = params.chatId
      if (params.from) query.from = params.from
      if (params.cursor) query.cursor = params.cursor
      search(query)
        .then(
          (page) => {
            if (seq !== request.current) return
            setState((s) => ({
              status: 'done',
              results: more && s.status !== 'idle' ? [...s.results, ...page.results] : page.results,
              nextCursor: page.nextCursor,
            }))
          },
          (err: unknown) => {
            if (seq !== request.current) return
            // Keeps the cursor of the page that failed, for "Try again".
            setState((s) => ({
              status: 'failed',
              results: more && s.status !== 'idle' ? s.results : [],
              nextCursor: params.cursor,
              message: errorMessage(err),
            }))
          },
        )
        .finally(() => {
          clearTimeout(spinner)
          if (seq === request.current) setSlow(false)
        })
    },
    [search],
  )

  // Typing (and changing a filter) searches after a pause.
  useEffect(() => {
    const timer = setTimeout(() => run({ q, chatId, from }), SEARCH_DEBOUNCE_MS)
    return () => clearTimeout(timer)
  }, [run, q, chatId, from])

  // What reopen reads: the latest query and whether the results are showing.
  const latest = useRef({ q, chatId, from, open })
  useEffect(() => {
    latest.current = { q, chatId, from, open }
  }, [q, chatId, from, open])

  // Opening the results again searches again: messages may have been edited or deleted since
  // they were found, and a deleted one must not be offered.
  const reopen = useCallback(() => {
    const last = latest.current
    if (!last.open && last.q !== '') run({ q: last.q, chatId: last.chatId, from: last.from })
    setOpen(true)
  }, [run])

  // Ctrl/Cmd+K focuses the box from anywhere, its text selected, and shows its results (focus
  // does, or, when the box has focus already, the shortcut itself).
  useEffect(() => {
    const shortcut = (event: globalThis.KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') {
        event.preventDefault()
        const box = input.current
        if (!box) return
        if (document.activeElement === box) reopen()
        else box.focus()
        box.select()
      }
    }
    document.addEventListener('keydown', shortcut)
    return () => document.removeEventListener('keydown', shortcut)
  }, [reopen])

  useEffect(() => {
    if (!open) return
    const outside = (event: PointerEvent) => {
      if (!wrap.current?.contains(event.target as Node)) setOpen(false)
    }
    document.addEventListener('pointerdown', outside)
    return () => document.removeEventListener('pointerdown', outside)
  }, [open])

  const groups = useMemo(() => groupByChat(state.status === 'idle' ? [] : state.results), [state])
  // In the order shown.
  const results = useMemo(() => groups.flatMap(([, items]) => items.map((i) => i.result)), [groups])
  const titleOf = (id: string) => {
    const chat = chats.find((c) => c.id === id)
    return chat ? chatTitle(chat, users, meId) : 'a chat'
  }
  const terms = useMemo(() => searchTerms(q), [q])
  const showPanel = open && q !== ''

  function choose(result: SearchResult) {
    const { message } = result
    setOpen(false)
    input.current?.blur()
    go(messagePath(result.chatId, message.id, threadOnly(message) ? message.parentId : undefined))
  }

  function keyDown(event: KeyboardEvent<HTMLInputElement>) {
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        if (results.length === 0) return
        event.preventDefault()
        setOpen(true)
        const step = event.key === 'ArrowDown' ? 1 : -1
        setActive((a) => (a + step + results.length + (a < 0 && step < 0 ? 1 : 0)) % results.length)
        break
      }
      case 'Home':
      case 'End':
        if (!showPanel || results.length === 0 || active < 0) return
        event.preventDefault()
        setActive(event.key === 'Home' ? 0 : results.length - 1)
        break
      case 'Enter': {
        event.preventDefault()
        const result = showPanel ? results[active] : undefined
        if (result) {
          choose(result)
        } else {
          setOpen(true)
          run({ q, chatId, from })
        }
        break
      }
      case 'Escape':
        if (showPanel) {
          event.preventDefault()
          setOpen(false)
        } else if (query !== '') {
          event.preventDefault()
          setQuery('')
        }
        break
      default:
        break
    }
  }

  const activeResult = showPanel && active >= 0 ? results[active] : undefined
  const optionId = (result: SearchResult) => `${optionPrefix}-${result.chatId}-${result.message.id}`
  const others = Object.values(users).sort((a, b) => personName(a).localeCompare(personName(b)))

  return (
    <div
      ref={wrap}
      className="search"
      role="search"
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget)) setOpen(false)
      }}
    >
      <input
        ref={input}
        type="search"
        className="search-input"
        role="combobox"
        aria-label="Search messages"
        aria-expanded={showPanel}
        aria-controls={listboxId}
        aria-autocomplete="list"
        aria-activedescendant={activeResult ? optionId(activeResult) : undefined}
        aria-keyshortcuts="Control+K Meta+K"
        placeholder="Search messages (Ctrl K)"
        autoComplete="off"
        value={query}
        onChange={(event) => {
          setQuery(event.target.value)
          setOpen(true)
        }}
        onFocus={reopen}
        onKeyDown={keyDown}
      />
      <div className="search-panel" hidden={!showPanel}>
        <div className="search-filters">
          <label>
            <span>In</span>
            <select value={chatId} onChange={(event) => setChatId(event.target.value)}>
              <option value="">All chats</option>
              {chats.map((c) => (
                <option key={c.id} value={c.id}>
                  {chatTitle(c, users, meId)}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>From</span>
            <select value={from} onChange={(event) => setFrom(event.target.value)}>
              <option value="">Anyone</option>
              {others.map((u) => (
                <option key={u.id} value={u.id}>
                  {personName(u)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div className="search-status" aria-live="polite">
          {state.status === 'loading' && slow && (
            <p className="muted">
              <span className="spinner" aria-hidden="true" /> Searching…
            </p>
          )}
          {state.status === 'done' && results.length === 0 && (
            <p className="muted">
              No messages match “<bdi>{q}</bdi>”.
            </p>
          )}
          {state.status === 'done' && results.length > 0 && (
            <span className="visually-hidden">
              {results.length === 1 ? '1 result' : `${results.length} results`}
              {state.nextCursor ? ', more to load' : ''}
            </span>
          )}
        </div>
        {state.status === 'failed' && (
          <div className="search-error">
            <p className="error" role="alert">
              Search failed: {state.message}
            </p>
            <button
              type="button"
              className="secondary small"
              onClick={() => run({ q, chatId, from, cursor: state.nextCursor })}
            >
              Try again
            </button>
          </div>
        )}
        <div id={listboxId} role="listbox" aria-label="Search results" className="search-results">
          {groups.map(([groupChatId, items]) => (
            <div key={groupChatId} role="group" aria-labelledby={`${listboxId}-${groupChatId}`}>
              <div id={`${listboxId}-${groupChatId}`} role="presentation" className="search-group">
                <bdi>{titleOf(groupChatId)}</bdi>
              </div>
              {items.map(({ result, at }) => {
                const selected = at === active
                return (
                  <div
                    key={optionId(result)}
                    id={optionId(result)}
                    role="option"
                    aria-selected={selected}
                    className={selected ? 'search-result active' : 'search-result'}
                    // Keeps focus in the box: a click chooses without blurring it first.
                    onPointerDown={(event) => event.preventDefault()}
                    onClick={() => choose(result)}
                    onPointerMove={() => setActive(at)}
                  >
                    <span className="search-meta">
                      <span className="search-author" dir="auto">
                        {personName(users[result.message.authorId])}
                      </span>{' '}
                      <time dateTime={new Date(result.message.createdAt).toISOString()}>
                        {relativeTime(result.message.createdAt, Date.now())}
                      </time>
                      {result.message.parentId !== undefined && <span className="muted"> · in a thread</span>}
                    </span>
                    <span className="search-snippet" dir="auto">
                      {highlightTerms(result.snippet, terms)}
                    </span>
                  </div>
                )
              })}
            </div>
          ))}
        </div>
        {(state.status === 'done' || (state.status === 'loading' && state.more)) && state.nextCursor !== undefined && (
          <button
            type="button"
            className="secondary small search-more"
            onClick={() => run({ q, chatId, from, cursor: state.nextCursor })}
          >
            Load more results
          </button>
        )}
        {state.status === 'loading' && state.more && <p className="muted">Loading more…</p>}
      </div>
    </div>
  )
}

/** Results grouped by chat (chats in the order of their first result, results in the server's
 * order: newest first), each with its place in the order shown, which arrows move through. */
function groupByChat(results: SearchResult[]): [string, { result: SearchResult; at: number }[]][] {
  const groups = new Map<string, SearchResult[]>()
  for (const result of results) {
    const list = groups.get(result.chatId)
    if (list) list.push(result)
    else groups.set(result.chatId, [result])
  }
  let at = 0
  return [...groups].map(([chatId, list]) => [chatId, list.map((result) => ({ result, at: at++ }))])
}

/** The words of a query as the server matches them: quoted phrases whole, `word*` as a prefix,
 * each word also at the start of a longer one. */
export function searchTerms(q: string): string[] {
  const terms: string[] = []
  for (const match of q.matchAll(/"([^"]+)"|(\S+)/g)) {
    const term = (match[1] ?? match[2] ?? '').replace(/\*$/, '').replace(/^"|"$/g, '').trim()
    if (term !== '') terms.push(term)
  }
  return terms
}

/** The snippet with every occurrence of the terms (at the start of a word, to its end) in
 * <mark>. Plain text in, React nodes out: nothing in a snippet is markup. */
export function highlightTerms(snippet: string, terms: string[]): ReactNode[] {
  if (terms.length === 0) return [snippet]
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives})[\\p{L}\\p{N}]*`, 'giu')
  const nodes: ReactNode[] = []
  let at = 0
  for (const match of snippet.matchAll(pattern)) {
    const start = match.index
    if (start > at) nodes.push(snippet.slice(at, start))
    nodes.push(<mark key={start}>{match[0]}</mark>)
    at = start + match[0].length
  }
  if (at < snippet.length) nodes.push(snippet.slice(at))
  return nodes
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
