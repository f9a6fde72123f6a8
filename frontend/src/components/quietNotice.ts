// What the composer says about the people a message goes to who are in do not disturb or quiet
// hours (GET /api/chats/{chatId}/quiet): pure functions, so the words are tested without a DOM.
import type { Silence } from '../api/types'
import type { ComposerMember } from './Composer'

/** A quiet person as the composer names them. */
export interface QuietPerson {
  name: string
  silence: Silence
}

/** "Bob is in quiet hours until 07:00 their time — they will see it then." */
export function quietSentence({ name, silence }: QuietPerson): string {
  const what = silence.reason === 'quietHours' ? 'in quiet hours' : 'in do not disturb'
  if (!silence.untilLocal) return `${name} is ${what} — they will see it when they turn it off.`
  return `${name} is ${what} until ${silence.untilLocal} their time — they will see it then.`
}

/** Whether "Notify anyway" would reach anyone of people. */
export function anyLetsThrough(people: readonly QuietPerson[]): boolean {
  return people.some((p) => p.silence.notifyAnyway)
}

/** What the toggle's description adds: who of people would not be reached by it. */
export function refusedNote(people: readonly QuietPerson[]): string {
  const refused = people.filter((p) => !p.silence.notifyAnyway).map((p) => p.name)
  if (refused.length === 0) return ''
  return `${refused.join(', ')} ${refused.length === 1 ? 'does' : 'do'} not let messages break through.`
}

// @username after the start or a character that cannot be in a username (as backend.Mentions).
const MENTION = /(?:^|[^A-Za-z0-9._-])@([A-Za-z0-9._-]+)/g

/** The ids of members text mentions as @username, in order of first mention, without duplicates,
 * read as backend.Mentions reads them: trailing dots and hyphens end a sentence, not the name. */
export function mentionedIds(text: string, members: readonly ComposerMember[]): string[] {
  const byName = new Map(members.map((m) => [m.username.toLowerCase(), m.id]))
  const ids: string[] = []
  for (const match of text.matchAll(MENTION)) {
    const id = byName.get((match[1] ?? '').replace(/[.-]+$/, '').toLowerCase())
    if (id !== undefined && !ids.includes(id)) ids.push(id)
  }
  return ids
}
