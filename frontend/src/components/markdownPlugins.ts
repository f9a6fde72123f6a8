// The unified plugins behind MessageBody: they cut GitHub-flavoured Markdown down to what a chat
// message may show, and mark @mentions. Both run before react-markdown turns the tree into React
// elements, so everything they leave is still subject to its allowedElements and urlTransform.
import type { Element, ElementContent, Root as HastRoot, RootContent, Text as HastText } from 'hast'
import type {
  Nodes,
  Parent,
  PhrasingContent,
  Root as MdastRoot,
  RootContent as MdastContent,
} from 'mdast'

/** The longest username (backend.MaxUsernameLen). */
const MAX_USERNAME_LEN = 32

/**
 * A remark plugin for what chat does differently from a document:
 * - a table or a footnote shows as the text that was typed, not lost and not laid out;
 * - an image is a link to it (no remote image loads just because a message was seen), with its
 *   alt text, else its address, as the link's text;
 * - every line break the author typed is one (Markdown would join the lines into one).
 */
export function remarkChat() {
  return (tree: MdastRoot, file: { value: unknown }) => {
    const source = typeof file.value === 'string' ? file.value : ''
    rewrite(tree, source)
  }
}

function rewrite(parent: Parent, source: string): void {
  const out: MdastContent[] = []
  for (const node of parent.children) {
    switch (node.type) {
      case 'table':
      case 'footnoteDefinition':
        out.push({ type: 'paragraph', children: breakLines(typed(node, source)) })
        break
      case 'footnoteReference':
        out.push({ type: 'text', value: typed(node, source) })
        break
      case 'image':
        out.push({
          type: 'link',
          url: node.url,
          title: node.title,
          children: [{ type: 'text', value: node.alt || node.url }],
        })
        break
      case 'imageReference':
        out.push({
          type: 'linkReference',
          identifier: node.identifier,
          label: node.label,
          referenceType: node.referenceType,
          children: [{ type: 'text', value: node.alt || typed(node, source) }],
        })
        break
      case 'text':
        out.push(...breakLines(node.value))
        break
      default:
        if ('children' in node) rewrite(node, source)
        out.push(node)
    }
  }
  parent.children = out
}

/** What the author typed for node. */
function typed(node: Nodes, source: string): string {
  const start = node.position?.start.offset
  const end = node.position?.end.offset
  return start === undefined || end === undefined ? '' : source.slice(start, end)
}

/** Text with a hard break at each new line. */
function breakLines(text: string): PhrasingContent[] {
  const out: PhrasingContent[] = []
  text.split('\n').forEach((line, i) => {
    if (i > 0) out.push({ type: 'break' })
    if (line !== '') out.push({ type: 'text', value: line })
  })
  return out
}

export interface MentionOptions {
  /** The reader's username: their mentions get class mention-me. */
  me?: string
  /** Only these (lower case) become mentions; without it every well-formed @name does. */
  usernames?: ReadonlySet<string>
}

// An @ that does not follow a username character (so not an e-mail address), then a name;
// the same rule as backend.Mentions.
const MENTION = /(?<![A-Za-z0-9._-])@([A-Za-z0-9._-]+)/g

/** Elements whose text is never a mention: code, and links (an address may hold an @). */
const NO_MENTIONS = new Set(['code', 'pre', 'a'])

/**
 * A rehype plugin that wraps each @username in <span class="mention">, adding mention-me and
 * words for screen readers when it names the reader. Matching follows backend.Mentions: names of
 * [a-z0-9._-], case-insensitive, 2 to 32 long, a trailing '.' or '-' not part of the name.
 */
export function rehypeMentions(options: MentionOptions = {}) {
  const me = options.me?.toLowerCase()
  return (tree: HastRoot) => {
    walk(tree)
  }

  function walk(parent: HastRoot | Element): void {
    const out: RootContent[] = []
    for (const node of parent.children) {
      if (node.type === 'element') {
        if (!NO_MENTIONS.has(node.tagName)) walk(node)
        out.push(node)
      } else if (node.type === 'text') {
        out.push(...mark(node))
      } else {
        out.push(node)
      }
    }
    // Text became text and elements only, which any parent of text may hold.
    parent.children = out
  }

  function mark(node: HastText): ElementContent[] {
    const out: ElementContent[] = []
    let last = 0
    for (const match of node.value.matchAll(MENTION)) {
      const typedName = (match[1] ?? '').replace(/[.-]+$/, '')
      const name = typedName.toLowerCase()
      if (name.length < 2 || name.length > MAX_USERNAME_LEN) continue
      if (options.usernames && !options.usernames.has(name)) continue
      if (match.index > last) out.push({ type: 'text', value: node.value.slice(last, match.index) })
      out.push(mention(typedName, name === me))
      last = match.index + 1 + typedName.length
    }
    if (last === 0) return [node]
    if (last < node.value.length) out.push({ type: 'text', value: node.value.slice(last) })
    return out
  }
}

function mention(name: string, mine: boolean): Element {
  const children: ElementContent[] = [{ type: 'text', value: `@${name}` }]
  if (mine) {
    // A span's aria-label is not read out (spans have no role that takes a name): words are.
    children.push({
      type: 'element',
      tagName: 'span',
      properties: { className: ['visually-hidden', 'mention-hint'] },
      children: [{ type: 'text', value: ' (mentions you)' }],
    })
  }
  return {
    type: 'element',
    tagName: 'span',
    properties: {
      className: mine ? ['mention', 'mention-me'] : ['mention'],
      title: mine ? 'Mentions you' : undefined,
    },
    children,
  }
}

/**
 * A rehype plugin for the blocks of a message: a heading, which is a document's, becomes a bold
 * paragraph of ordinary size; each paragraph and list item takes the direction of its own text
 * (dir="auto"), so a right-to-left line among left-to-right ones reads right.
 */
export function rehypeChatBlocks() {
  return (tree: HastRoot) => {
    blocks(tree)
  }
}

function blocks(parent: HastRoot | Element): void {
  for (const node of parent.children) {
    if (node.type !== 'element') continue
    if (/^h[1-6]$/.test(node.tagName)) {
      node.tagName = 'p'
      node.properties = { className: ['md-heading'], dir: 'auto' }
      const text = node.children
      node.children = [{ type: 'element', tagName: 'strong', properties: {}, children: text }]
      continue
    }
    if (node.tagName === 'p' || node.tagName === 'li') node.properties.dir = 'auto'
    if (node.tagName !== 'pre') blocks(node)
  }
}
