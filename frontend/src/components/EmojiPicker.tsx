import {
  useDeferredValue,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
} from 'react'
import { searchEmoji, type EmojiIndex, type EmojiInfo } from '../emoji/emoji'
import { recentEmoji, rememberEmoji } from '../emoji/recent'
import { useEmoji } from '../emoji/useEmoji'
import './EmojiPicker.css'

interface EmojiPickerProps {
  /** The chosen emoji's characters. The picker stays open: the parent closes it if it should. */
  onPick: (emoji: string) => void
  /** Escape, a press outside, or focus moving out. The parent unmounts the picker. A press on
   * the control that opened it is left to that control (it may toggle the picker). */
  onClose: () => void
  /** The dialog's name for screen readers. */
  label?: string
}

/** Emoji per row. The grid's keyboard moves (ArrowUp/Down) go by rows of this many. */
export const PICKER_COLUMNS = 8

/** How many results a search shows. */
const SEARCH_LIMIT = 80

interface Cell {
  native: string
  /** What a screen reader says for it. */
  name: string
  shortcode?: string
}

interface Section {
  id: string
  label: string
  cells: Cell[]
  /** The flat index of the section's first cell (cells are numbered across sections). */
  start: number
}

/**
 * A popover to choose an emoji: a search box (focused on open) above grids of emoji, the recent
 * ones first, then each category. The parent positions it. Keys: arrows move within and across
 * the grids (ArrowUp from the top row goes back to the search box, ArrowDown from the box into
 * the grid), Home/End go to a row's ends and Ctrl+Home/End to the first and last emoji, Enter or
 * Space picks, Enter in the box picks the first result, Escape closes and puts focus back where
 * it was when the picker opened.
 */
export function EmojiPicker({ onPick, onClose, label = 'Choose an emoji' }: EmojiPickerProps) {
  const { index, failed } = useEmoji()
  const [query, setQuery] = useState('')
  const [recent, setRecent] = useState(recentEmoji)
  const [active, setActive] = useState(0)
  const [shown, setShown] = useState<Cell | null>(null)
  const root = useRef<HTMLDivElement>(null)
  const search = useRef<HTMLInputElement>(null)
  const opener = useRef<Element | null>(null)
  const id = useId()

  // The first paint has the recent emoji and the first category; the other 1,300 follow in a
  // render of their own, so the picker opens at once.
  const complete = useDeferredValue(true, false)
  const sections = useMemo(
    () => buildSections(index, query, recent, complete),
    [index, query, recent, complete],
  )
  const cellCount = sections.reduce((n, s) => n + s.cells.length, 0)
  const current = Math.min(active, Math.max(cellCount - 1, 0))

  // Focus goes to the search box on open and back to the opener on close, unless the user has
  // put it somewhere else in the meantime (clicked or tabbed out).
  useLayoutEffect(() => {
    const element = root.current
    const before = document.activeElement
    opener.current = before
    search.current?.focus()
    return () => {
      const now = document.activeElement
      const lost = now === null || now === document.body || element?.contains(now)
      if (lost && before instanceof HTMLElement && before.isConnected) before.focus()
    }
  }, [])

  // A press outside closes it (focus moving out does too, see onBlur).
  useLayoutEffect(() => {
    function pressed(event: PointerEvent) {
      const target = event.target
      if (!(target instanceof Node) || root.current?.contains(target)) return
      if (opener.current?.contains(target)) return
      onClose()
    }
    document.addEventListener('pointerdown', pressed, true)
    return () => document.removeEventListener('pointerdown', pressed, true)
  }, [onClose])

  function pick(cell: Cell) {
    setRecent(rememberEmoji(cell.native))
    onPick(cell.native)
  }

  function focusCell(cell: number) {
    setActive(cell)
    root.current?.querySelector<HTMLButtonElement>(`[data-cell="${cell}"]`)?.focus()
  }

  function keyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === 'Escape') {
      event.preventDefault()
      // An enclosing dialog must not close too.
      event.stopPropagation()
      onClose()
      return
    }
    const target = event.target as HTMLElement
    if (target === search.current) {
      if (event.key === 'ArrowDown' && cellCount > 0) {
        event.preventDefault()
        focusCell(0)
      } else if (event.key === 'Enter' && query.trim() !== '') {
        event.preventDefault()
        const first = sections[0]?.cells[0]
        if (first) pick(first)
      }
      return
    }
    if (target.dataset.cell === undefined) return
    const next = move(sections, current, event.key, event.ctrlKey || event.metaKey)
    if (next === undefined) return
    event.preventDefault()
    if (next === -1) search.current?.focus()
    else focusCell(next)
  }

  const status = failed
    ? 'Emoji could not be loaded.'
    : !index
      ? 'Loading emoji…'
      : query.trim() !== '' && cellCount === 0
        ? `No emoji match “${query.trim()}”.`
        : query.trim() !== ''
          ? `${cellCount} emoji found.`
          : ''

  return (
    <div
      ref={root}
      className="emoji-picker"
      role="dialog"
      aria-label={label}
      // Clicks on its gaps keep focus inside, so they are not taken for leaving.
      tabIndex={-1}
      onKeyDown={keyDown}
      onBlur={(event) => {
        const to = event.relatedTarget
        if (to instanceof Node && !event.currentTarget.contains(to)) onClose()
      }}
    >
      <input
        ref={search}
        className="emoji-search"
        type="search"
        aria-label="Search emoji"
        placeholder="Search emoji"
        autoComplete="off"
        spellCheck={false}
        value={query}
        onChange={(event) => {
          setQuery(event.target.value)
          setActive(0)
          setShown(null)
        }}
      />
      <p className="visually-hidden" role="status">
        {status}
      </p>
      <div className="emoji-scroll">
        {status !== '' && cellCount === 0 && (
          <p className="emoji-status" aria-hidden="true">
            {status}
          </p>
        )}
        {sections.map((section) => (
          <section key={section.id} className="emoji-section">
            <h3 id={`${id}-${section.id}`} className="emoji-section-label">
              {section.label}
            </h3>
            <div role="grid" aria-labelledby={`${id}-${section.id}`} className="emoji-grid">
              {rows(section.cells).map((row, r) => (
                <div role="row" key={r} className="emoji-row">
                  {row.map((cell, c) => {
                    const n = section.start + r * PICKER_COLUMNS + c
                    return (
                      <div role="gridcell" key={c}>
                        <button
                          type="button"
                          className="emoji-cell"
                          data-cell={n}
                          tabIndex={n === current ? 0 : -1}
                          aria-label={cell.name}
                          title={cell.shortcode ? `:${cell.shortcode}:` : cell.name}
                          onClick={() => pick(cell)}
                          onFocus={() => {
                            setActive(n)
                            setShown(cell)
                          }}
                          onPointerEnter={() => setShown(cell)}
                        >
                          {cell.native}
                        </button>
                      </div>
                    )
                  })}
                </div>
              ))}
            </div>
          </section>
        ))}
      </div>
      <div className="emoji-preview" aria-hidden="true">
        {shown ? (
          <>
            <span className="emoji-preview-native">{shown.native}</span>
            <span className="emoji-preview-name">{shown.name}</span>
            {shown.shortcode && <code>:{shown.shortcode}:</code>}
          </>
        ) : (
          <span className="emoji-preview-name">Pick an emoji</span>
        )}
      </div>
    </div>
  )
}

function buildSections(
  index: EmojiIndex | null,
  query: string,
  recent: string[],
  complete: boolean,
): Section[] {
  const sections: Omit<Section, 'start'>[] = []
  if (query.trim() !== '') {
    if (index) {
      const cells = searchEmoji(index, query, SEARCH_LIMIT).map(toCell)
      if (cells.length > 0) sections.push({ id: 'results', label: 'Search results', cells })
    }
  } else {
    if (recent.length > 0) {
      const cells = recent.map((native) => {
        const known = index?.byNative.get(native)
        return { native, name: known?.name ?? native, shortcode: known?.id }
      })
      sections.push({ id: 'recent', label: 'Recently used', cells })
    }
    const categories = index?.categories ?? []
    for (const category of complete ? categories : categories.slice(0, 1)) {
      const cells = category.emojis.map(toCell)
      sections.push({ id: category.id, label: category.label, cells })
    }
  }
  let start = 0
  return sections.filter((section) => section.cells.length > 0).map((section) => {
    const placed = { ...section, start }
    start += section.cells.length
    return placed
  })
}

function toCell(emoji: EmojiInfo): Cell {
  return { native: emoji.native, name: emoji.name, shortcode: emoji.id }
}

function rows<T>(cells: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < cells.length; i += PICKER_COLUMNS) {
    out.push(cells.slice(i, i + PICKER_COLUMNS))
  }
  return out
}

/**
 * Where a key moves from cell `at` (a flat index): another cell, -1 for the search box (up from
 * the first row), or undefined for a key that is not a move. Up and down keep the column,
 * crossing into the neighbouring section's nearest row; a shorter row takes its last cell.
 */
export function move(
  sections: readonly { start: number; cells: readonly unknown[] }[],
  at: number,
  key: string,
  ctrl: boolean,
): number | undefined {
  const s = sections.findIndex((x) => at >= x.start && at < x.start + x.cells.length)
  const section = sections[s]
  const last = sections.at(-1)
  if (!section || !last) return undefined
  const i = at - section.start
  const n = section.cells.length
  const column = i % PICKER_COLUMNS
  const rowStart = i - column
  switch (key) {
    case 'ArrowRight':
      return Math.min(at + 1, last.start + last.cells.length - 1)
    case 'ArrowLeft':
      return Math.max(at - 1, 0)
    case 'Home':
      return ctrl ? 0 : section.start + rowStart
    case 'End':
      return ctrl
        ? last.start + last.cells.length - 1
        : section.start + Math.min(rowStart + PICKER_COLUMNS, n) - 1
    case 'ArrowDown': {
      if (rowStart + PICKER_COLUMNS < n) return section.start + Math.min(i + PICKER_COLUMNS, n - 1)
      const next = sections[s + 1]
      if (!next) return at
      return next.start + Math.min(column, next.cells.length - 1)
    }
    case 'ArrowUp': {
      if (i >= PICKER_COLUMNS) return at - PICKER_COLUMNS
      const previous = sections[s - 1]
      if (!previous) return -1
      const lastRow = Math.floor((previous.cells.length - 1) / PICKER_COLUMNS) * PICKER_COLUMNS
      return previous.start + Math.min(lastRow + column, previous.cells.length - 1)
    }
    default:
      return undefined
  }
}
