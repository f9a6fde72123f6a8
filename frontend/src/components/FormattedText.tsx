// The Markdown renderer behind MessageBody, in a chunk of its own: react-markdown and its parser
// are about a third of the app's code, and MessageBody shows plain text until they are here.
import type { ComponentProps } from 'react'
import Markdown, { type Components, type ExtraProps } from 'react-markdown'
import remarkGfm from 'remark-gfm'
import { rehypeChatBlocks, rehypeMentions, remarkChat } from './markdownPlugins'

export interface FormattedTextProps {
  /** Markdown. */
  content: string
  /** The reader: mentions of them are highlighted. */
  meUsername?: string
  /** The usernames that exist (lower case, as usernames are); only @names among them become
   * mentions. Without it, every well-formed @name does. */
  usernames?: ReadonlySet<string>
}

/** Schemes a link may have; any other (javascript:, data:, file:, a relative path) is text. */
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])

/** What a message may contain; anything else is replaced by what it contains. */
const ALLOWED_ELEMENTS = [
  'p',
  'br',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'hr',
  'input', // a task list's check box (disabled)
  'span', // mentions
]

/** The address a link may have, normalised, or '' when it may not be a link. */
export function safeHref(url: string): string {
  try {
    const parsed = new URL(url)
    return LINK_PROTOCOLS.has(parsed.protocol) ? parsed.href : ''
  } catch {
    return ''
  }
}

/** A link opens in a new tab without giving that page a handle on this one; a link whose
 * address was refused is its text. */
function Link({ href, children }: ComponentProps<'a'> & ExtraProps) {
  const safe = href ? safeHref(href) : ''
  if (safe === '') return <>{children}</>
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  )
}

/** Code blocks read left to right whatever the message's direction. */
function Pre({ children }: ComponentProps<'pre'> & ExtraProps) {
  return <pre dir="ltr">{children}</pre>
}

const components: Components = { a: Link, pre: Pre }

/**
 * Markdown cut down to what a chat message may show: emphasis, strike-through, code, quotes,
 * lists, links (http, https and mailto only) and @mentions. Raw HTML shows as the text it is;
 * images, tables and footnotes as links or as typed; headings as bold paragraphs.
 */
export function FormattedText({ content, meUsername, usernames }: FormattedTextProps) {
  return (
    <Markdown
      remarkPlugins={[remarkGfm, remarkChat]}
      rehypePlugins={[rehypeChatBlocks, [rehypeMentions, { me: meUsername, usernames }]]}
      allowedElements={ALLOWED_ELEMENTS}
      unwrapDisallowed
      urlTransform={safeHref}
      components={components}
    >
      {content}
    </Markdown>
  )
}
