import { render, screen } from '@testing-library/react'
import { beforeAll, describe, expect, it } from 'vitest'
import { safeHref } from './FormattedText'
import { formatterReady, MessageBody } from './MessageBody'

beforeAll(() => formatterReady)

const known = new Set(['ada', 'bob', 'cy.d'])

function body(content: string, me = 'ada') {
  const { container } = render(<MessageBody content={content} meUsername={me} usernames={known} />)
  return container.firstElementChild as HTMLElement
}

/** The element's tag names, depth first, without the body's own. */
function tags(root: Element): string[] {
  return [...root.querySelectorAll('*')].map((el) => el.tagName.toLowerCase())
}

describe('MessageBody formatting', () => {
  it('renders emphasis, strike-through and inline code', () => {
    const root = body('a **bold** _italic_ ~~gone~~ `x < y` word')

    expect(root.querySelector('strong')?.textContent).toBe('bold')
    expect(root.querySelector('em')?.textContent).toBe('italic')
    expect(root.querySelector('del')?.textContent).toBe('gone')
    expect(root.querySelector('code')?.textContent).toBe('x < y')
    expect(root.textContent).toBe('a bold italic gone x < y word')
  })

  it('keeps a fenced code block’s lines, left to right, without formatting inside', () => {
    const root = body('```\nconst a = **1**\n  indented\n```')

    const pre = root.querySelector('pre')
    expect(pre?.getAttribute('dir')).toBe('ltr')
    expect(pre?.querySelector('code')?.textContent).toBe('const a = **1**\n  indented\n')
    expect(root.querySelector('strong')).toBeNull()
  })

  it('renders quotes, bulleted and numbered lists, and task lists', () => {
    const root = body('> quoted\n\n- one\n- two\n\n3. three\n4. four\n\n- [x] done')

    expect(root.querySelector('blockquote')?.textContent?.trim()).toBe('quoted')
    const [bullets, numbers, tasks] = root.querySelectorAll('ul, ol')
    expect(bullets?.tagName).toBe('UL')
    expect([...bullets!.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['one', 'two'])
    expect(numbers?.tagName).toBe('OL')
    expect(numbers?.getAttribute('start')).toBe('3')
    const box = tasks?.querySelector('input')
    expect(box?.type).toBe('checkbox')
    expect(box?.checked).toBe(true)
    expect(box?.disabled).toBe(true)
  })

  it('keeps each line break the author typed', () => {
    const root = body('first\nsecond\n\nnext paragraph')

    const paragraphs = root.querySelectorAll('p')
    expect(paragraphs).toHaveLength(2)
    expect(paragraphs[0]?.querySelectorAll('br')).toHaveLength(1)
    expect(paragraphs[0]?.textContent).toBe('first\nsecond')
  })

  it('shows a heading as a bold paragraph, not a document heading', () => {
    const root = body('# Big news\n\nbody')

    expect(root.querySelector('h1, h2, h3, h4, h5, h6')).toBeNull()
    expect(root.querySelector('p.md-heading > strong')?.textContent).toBe('Big news')
  })

  it('shows tables and footnotes as typed, and an image as a link instead of loading it', () => {
    const root = body(
      '| a | b |\n|---|---|\n| 1 | 2 |\n\nsee[^n]\n\n[^n]: the note\n\n' +
        '![a cat](https://example.com/cat.png)',
    )

    expect(root.querySelector('table, img, section, sup')).toBeNull()
    expect(root.textContent).toContain('| a | b |')
    expect(root.textContent).toContain('| 1 | 2 |')
    expect(root.textContent).toContain('see[^n]')
    expect(root.textContent).toContain('[^n]: the note')
    const link = screen.getByRole('link', { name: 'a cat' })
    expect(link.getAttribute('href')).toBe('https://example.com/cat.png')
  })

  it('isolates the body and each paragraph so right-to-left text cannot reorder the page', () => {
    const root = body('שלום\n\nlook \u202Ereversed')

    expect(root.getAttribute('dir')).toBe('auto')
    for (const p of root.querySelectorAll('p')) expect(p.getAttribute('dir')).toBe('auto')
  })
})

describe('MessageBody links', () => {
  it('opens http, https and mailto links in a new tab without an opener or referrer', () => {
    body('[docs](https://example.com/a?b=1) http://example.org/x mail ann@example.com')

    const links = screen.getAllByRole('link')
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://example.com/a?b=1',
      'http://example.org/x',
      'mailto:ann@example.com',
    ])
    for (const a of links) {
      expect(a.getAttribute('target')).toBe('_blank')
      expect(a.getAttribute('rel')).toBe('noopener noreferrer')
    }
  })

  it.each([
    ['[click](javascript:alert(1))', 'click'],
    ['<javascript:alert(1)>', 'javascript:alert(1)'],
    ['[x](JaVaScRiPt:alert(1))', 'x'],
    ['[x](<java\tscript:alert(1)>)', 'x'],
    ['[x](data:text/html,<script>alert(1)</script>)', 'x'],
    ['[x](vbscript:msgbox(1))', 'x'],
    ['[x](file:///etc/passwd)', 'x'],
    ['[x](/api/logout)', 'x'],
    ['[x][r]\n\n[r]: javascript:alert(1)', 'x'],
  ])('%s is text, not a link', (content, text) => {
    const root = body(content)

    expect(root.querySelector('a')).toBeNull()
    expect(root.textContent).toBe(text)
  })

  it('accepts only http, https and mailto addresses', () => {
    expect(safeHref('https://example.com')).toBe('https://example.com/')
    expect(safeHref('HTTP://EXAMPLE.COM/A')).toBe('http://example.com/A')
    expect(safeHref('mailto:a@b.c')).toBe('mailto:a@b.c')
    expect(safeHref(' javascript:alert(1)')).toBe('')
    expect(safeHref('data:text/plain,hi')).toBe('')
    expect(safeHref('relative/path')).toBe('')
  })
})

describe('MessageBody raw HTML', () => {
  it('shows HTML as the text it is, never as elements', () => {
    const root = body('<img src=x onerror="alert(1)"> and <script>alert(2)</script> <b>b</b>')

    expect(tags(root)).toEqual(['p'])
    expect(root.textContent).toBe(
      '<img src=x onerror="alert(1)"> and <script>alert(2)</script> <b>b</b>',
    )
  })

  it('shows an HTML block as text too', () => {
    const root = body(
      '<div onclick="alert(1)">\n<iframe src="https://evil.example"></iframe>\n</div>',
    )

    expect(root.querySelector('div, iframe')).toBeNull()
    expect(root.textContent).toContain('<iframe src="https://evil.example"></iframe>')
  })
})

describe('MessageBody mentions', () => {
  it('marks known usernames, and the reader’s own in words a screen reader says', () => {
    const root = body('hi @bob and @Ada, also @nobody')

    const mentions = [...root.querySelectorAll('.mention')]
    expect(mentions.map((m) => m.firstChild?.textContent)).toEqual(['@bob', '@Ada'])
    expect(mentions[0]?.classList.contains('mention-me')).toBe(false)
    expect(mentions[1]?.classList.contains('mention-me')).toBe(true)
    expect(mentions[1]?.textContent).toBe('@Ada (mentions you)')
    expect(root.textContent).toContain('also @nobody')
  })

  it('follows the server’s rule: no trailing . or -, not inside an e-mail address', () => {
    const root = body('thanks @bob. ping @cy.d- then mail x@ada.example')

    expect([...root.querySelectorAll('.mention')].map((m) => m.textContent)).toEqual([
      '@bob',
      '@cy.d',
    ])
    expect(root.textContent).toContain('thanks @bob. ping @cy.d- then')
  })

  it('finds no mention inside code or a link', () => {
    const root = body('`@ada` and\n\n```\n@bob\n```\n\n[@ada](https://example.com)')

    expect(root.querySelector('.mention')).toBeNull()
    expect(root.querySelector('code')?.textContent).toBe('@ada')
  })

  it('highlights no one without a reader, and marks every well-formed name without a list', () => {
    const { container } = render(<MessageBody content="@ada @zed @x" />)

    const mentions = [...container.querySelectorAll('.mention')]
    expect(mentions.map((m) => m.textContent)).toEqual(['@ada', '@zed'])
    expect(container.querySelector('.mention-me')).toBeNull()
  })
})
