import { useId, type ReactNode } from 'react'
import type { Member } from '../state/types'
import { personName } from './names'

interface PeoplePickerProps {
  /** Everyone who may be chosen (the user left out), in any order: shown by name. */
  people: readonly Member[]
  /** The ids chosen, in the order they were chosen. */
  chosen: readonly string[]
  onChange: (chosen: string[]) => void
  legend: string
  /** Only these are listed (a search); the rest stay chosen or not. Default: everyone. */
  shown?: (person: Member) => boolean
  /** At most this many may be chosen: the others' boxes are disabled until one is unticked. */
  max?: number
  /** Above the list, e.g. how many may be chosen. */
  hint?: ReactNode
}

/**
 * A fieldset of checkboxes, one a person (their name, described by their @username), for the
 * dialogs that start a chat or a direct message. Says so when there is nobody to choose, or
 * nobody matches the search.
 */
export function PeoplePicker({ people, chosen, onChange, legend, shown = () => true, max, hint }: PeoplePickerProps) {
  const idPrefix = useId()
  const sorted = [...people].sort((a, b) => personName(a).localeCompare(personName(b)))
  const listed = sorted.filter(shown)
  const full = max !== undefined && chosen.length >= max

  function toggle(userId: string, checked: boolean) {
    onChange(checked ? [...chosen, userId] : chosen.filter((id) => id !== userId))
  }

  return (
    <fieldset className="people">
      <legend>{legend}</legend>
      {hint}
      {sorted.length === 0 ? (
        <p className="muted">Nobody else is on this server yet. Invite people first.</p>
      ) : listed.length === 0 ? (
        <p className="muted">Nobody matches.</p>
      ) : (
        <ul>
          {listed.map((user) => {
            const checked = chosen.includes(user.id)
            return (
              <li key={user.id}>
                <label>
                  <input
                    type="checkbox"
                    checked={checked}
                    disabled={!checked && full}
                    aria-describedby={`${idPrefix}-${user.id}`}
                    onChange={(event) => toggle(user.id, event.target.checked)}
                  />
                  <bdi>{personName(user)}</bdi>
                </label>
                <span id={`${idPrefix}-${user.id}`} className="muted">
                  @{user.username}
                </span>
              </li>
            )
          })}
        </ul>
      )}
    </fieldset>
  )
}
