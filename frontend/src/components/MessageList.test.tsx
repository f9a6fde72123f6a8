import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { Message } from '../api/types'
import type { ChatView, PendingMessage } from '../state/types'
import { MessageList } from './MessageList'
import { ada, member } from './testFakes'

const bob = member('u2', 'Bob')
const users = { [ada.id]: { ...ada, online: true }, [bob.id]: bob }
const noon = new Date(2025, 4, 6, 12, 0).getTime()

function message(id: string, authorId: string, content: string, createdAt = noon): Message {
  return { id, chatId: 'c1', authorId, content, createdAt }
}

function pending(clientId: string, state: PendingMessage['state'], error?: string): PendingMessage {
  return {
    clientId,
    chatId: 'c1',
    content: `draft ${clientId}`,
    createdAt: noon + 60_000,
    state,
    error,
  }
}

function view(partial: Partial<ChatView> = {}): ChatView {
  return { messages: [], pending: [], hasMoreBefore: false, hasMoreAfter: false, loading: false, ...partial }
}

type Props = Parameters<typeof MessageList>[0]

function list(
  chatView: ChatView | undefined,
  handlers: Partial<Pick<Props, 'onLoadOlder' | 'onRetry' | 'onDiscard'>> = {},
) {
  return (
    <MessageList
      title="#general"
      view={chatView}
      users={users}
      me={ada}
      onLoadOlder={handlers.onLoadOlder ?? (() => {})}
      onRetry={handlers.onRetry ?? (() => {})}
      onDiscard={handlers.onDiscard ?? (() => {})}
    />
  )
}

function renderList(...args: Parameters<typeof list>) {
  return render(list(...args))
}

/** The nearest element that isolates its text from the surrounding bidi context, if any. */
function isolatingAncestor(node: Element): Element | null {
  return node.closest('bdi, [dir]')
}

describe('MessageList', () => {
  it('isolates message bodies and author names so a U+202E cannot flip the UI around them', () => {
    const evil = member('u3', 'Mallory\u202Egnp.exe')
    render(
      <MessageList
        title="#general"
        view={view({ messages: [message('m1', evil.id, 'look \u202Ethis is reversed')] })}
        users={{ ...users, [evil.id]: evil }}
        me={ada}
        onLoadOlder={() => {}}
        onRetry={() => {}}
        onDiscard={() => {}}
      />,
    )
    const body = screen.getByText('look \u202Ethis is reversed')
    expect(isolatingAncestor(body)).not.toBeNull()
    expect(isolatingAncestor(body)?.getAttribute('dir')).toBe('auto')
    const author = screen.getByText('Mallory\u202Egnp.exe')
    expect(isolatingAncestor(author)).not.toBeNull()
    // The isolate ends inside the message: its time is outside it.
    const time = screen.getByRole('log').querySelector('time')
    expect(time && isolatingAncestor(time)).toBeNull()
  })

  it('is a polite log with author, time and content', () => {
    renderList(
      view({ messages: [message('m1', bob.id, 'Hi Ada'), message('m2', ada.id, 'Hi Bob')] }),
    )

    const log = screen.getByRole('log', { name: 'Messages in #general' })
    expect(log.getAttribute('aria-live')).toBe('polite')
    const items = within(log)
      .getAllByRole('listitem')
      .filter((li) => li.classList.contains('message'))
    expect(items.map((li) => li.querySelector('.message-author')?.textContent)).toEqual([
      'Bob',
      'Ada Lovelace',
    ])
    expect(items.map((li) => li.querySelector('.message-content')?.textContent)).toEqual([
      'Hi Ada',
      'Hi Bob',
    ])
    const time = items[0]?.querySelector('time')
    expect(time?.getAttribute('dateTime')).toBe(new Date(noon).toISOString())
  })

  it('shows content as text, new lines kept and markup not interpreted', () => {
    const content = 'line one\nline two <img src=x onerror="alert(1)"><b>bold</b>'
    const { container } = renderList(view({ messages: [message('m1', bob.id, content)] }))

    expect(screen.getByText(/line one/).textContent).toBe(content)
    expect(container.querySelector('img')).toBeNull()
    expect(container.querySelector('b')).toBeNull()
  })

  it('shows a file message as its thumbnail or as a download with size and preview', () => {
    const chart = {
      ...message('m1', bob.id, 'chart.png'),
      attachment: {
        id: 'F1', chatId: 'c1', uploaderId: bob.id, name: 'chart.png', size: 48_213, mime: 'image/png',
        status: 'ready' as const, width: 800, height: 400, thumbnail: true, createdAt: noon,
      },
    }
    const notes = {
      ...message('m2', bob.id, 'notes.txt'),
      attachment: {
        id: 'F2', chatId: 'c1', uploaderId: bob.id, name: 'notes.txt', size: 812, mime: 'text/plain',
        status: 'ready' as const, preview: 'line one\nline two', createdAt: noon,
      },
    }
    renderList(view({ messages: [chart, notes] }))

    const image = screen.getByRole('img', { name: 'chart.png' })
    expect(image.getAttribute('src')).toBe('/api/files/F1/thumbnail')
    expect(screen.getByRole('link', { name: 'Open chart.png' }).getAttribute('href')).toBe('/api/files/F1')
    expect(screen.getByRole('link', { name: 'chart.png' }).getAttribute('download')).toBe('chart.png')
    expect(screen.getByText('47 KB')).toBeDefined()
    const download = screen.getByRole('link', { name: 'notes.txt' })
    expect(download.getAttribute('download')).toBe('notes.txt')
    expect(screen.getByText('812 B')).toBeDefined()
    expect(screen.getByText(/line one/).textContent).toBe('line one\nline two')
  })

  it('groups messages by the same author but keeps the author for screen readers', () => {
    renderList(
      view({
        messages: [
          message('m1', bob.id, 'one'),
          message('m2', bob.id, 'two', noon + 60_000),
          message('m3', bob.id, 'three', noon + 10 * 60_000),
        ],
      }),
    )

    const items = screen.getAllByRole('listitem').filter((li) => li.classList.contains('message'))
    expect(items.map((li) => li.classList.contains('continued'))).toEqual([false, true, false])
    expect(items[1]?.querySelector('.visually-hidden')?.textContent).toBe('Bob')
  })

  it('shows each pending state, with Retry and Discard for a refused message', async () => {
    const onRetry = vi.fn<(clientId: string) => void>()
    const onDiscard = vi.fn<(clientId: string) => void>()
    renderList(
      view({
        messages: [message('m1', bob.id, 'hello')],
        pending: [
          pending('p1', 'sending'),
          pending('p2', 'queued'),
          pending('p3', 'failed', 'Chat not found.'),
          pending('p4', 'relayed'),
        ],
      }),
      { onRetry, onDiscard },
    )

    const sending = screen.getByText('draft p1').closest('li')
    const queued = screen.getByText('draft p2').closest('li')
    const failed = screen.getByText('draft p3').closest('li')
    if (!sending || !queued || !failed) throw new Error('pending messages not rendered')
    expect(within(sending).getByText('Sending…')).toBeDefined()
    expect(within(queued).getByText('Queued — will send when back online')).toBeDefined()
    expect(within(failed).getByText('Not sent: Chat not found.')).toBeDefined()
    const relayed = screen.getByText('draft p4').closest('li')
    if (!relayed) throw new Error('relayed message not rendered')
    expect(within(relayed).getByText('Queued — will send when the server is back')).toBeDefined()
    expect(within(relayed).queryByRole('button')).toBeNull() // the desktop app has it: no discard
    expect(sending.classList.contains('pending')).toBe(true)
    expect(within(sending).queryByRole('button')).toBeNull()
    expect(within(queued).queryByRole('button')).toBeNull()

    const user = userEvent.setup()
    await user.click(within(failed).getByRole('button', { name: 'Retry' }))
    await user.click(within(failed).getByRole('button', { name: 'Discard' }))
    expect(onRetry).toHaveBeenCalledExactlyOnceWith('p3')
    expect(onDiscard).toHaveBeenCalledExactlyOnceWith('p3')
  })

  it('offers older history while there is more, and says where the chat begins', async () => {
    const onLoadOlder = vi.fn<() => void>()
    const { rerender } = renderList(
      view({ messages: [message('m9', bob.id, 'x')], hasMoreBefore: true }),
      {
        onLoadOlder,
      },
    )

    await userEvent.setup().click(screen.getByRole('button', { name: 'Load older messages' }))
    expect(onLoadOlder).toHaveBeenCalledOnce()

    rerender(
      list(view({ messages: [message('m9', bob.id, 'x')], hasMoreBefore: true, loading: true }), {
        onLoadOlder,
      }),
    )
    expect(screen.getByRole('button', { name: 'Loading older messages…' })).toHaveProperty(
      'disabled',
      true,
    )

    rerender(list(view({ messages: [message('m9', bob.id, 'x')] }), { onLoadOlder }))
    expect(screen.queryByRole('button', { name: /older/ })).toBeNull()
    expect(document.querySelector('.history-start')?.textContent).toBe('This is the very beginning of #general.')
  })

  it('tells a load the list asks for when its top comes into view from one the user clicks', async () => {
    vi.stubGlobal('IntersectionObserver', FakeIntersectionObserver)
    const onLoadOlder = vi.fn<Props['onLoadOlder']>()
    renderList(view({ messages: [message('m9', bob.id, 'x')], hasMoreBefore: true }), { onLoadOlder })

    const button = screen.getByRole('button', { name: 'Load older messages' })
    const observer = FakeIntersectionObserver.latest
    expect(observer?.targets).toEqual([button])
    observer?.intersect()
    // The store may hold such a load back after a failed one; a click it never does.
    expect(onLoadOlder).toHaveBeenLastCalledWith({ automatic: true })

    await userEvent.setup().click(button)
    expect(onLoadOlder).toHaveBeenCalledTimes(2)
    expect(onLoadOlder).toHaveBeenLastCalledWith()
  })

  it('keeps the reader in place when older messages arrive, follows new ones at the bottom', () => {
    const first = view({
      messages: [message('m5', bob.id, 'five'), message('m6', bob.id, 'six')],
      hasMoreBefore: true,
    })
    const { rerender } = renderList(undefined)
    const log = screen.getByRole('log')
    // jsdom has no layout: give every row 50 px and the log a 50 px window.
    Object.defineProperty(log, 'scrollHeight', {
      get: () => log.querySelectorAll('li').length * 50,
    })
    Object.defineProperty(log, 'clientHeight', { get: () => 50 })
    const show = (chatView: ChatView) => rerender(list(chatView))

    show(first)
    expect(log.scrollTop).toBe(150) // the bottom: a day separator and two messages

    log.scrollTop = 10
    log.dispatchEvent(new Event('scroll'))
    const older = [
      message('m1', bob.id, 'one'),
      message('m2', bob.id, 'two'),
      message('m3', bob.id, 'three'),
    ]
    show({ ...first, messages: [...older, ...first.messages] })
    expect(log.scrollTop).toBe(10 + 3 * 50)

    // Away from the bottom, someone else's new message does not move the view…
    show({ ...first, messages: [...older, ...first.messages, message('m7', bob.id, 'seven')] })
    expect(log.scrollTop).toBe(160)
    // …but the reader's own message does.
    show({
      ...first,
      messages: [...older, ...first.messages, message('m7', bob.id, 'seven')],
      pending: [pending('p1', 'sending')],
    })
    expect(log.scrollTop).toBe(8 * 50)
  })
})

/** jsdom has no IntersectionObserver: this one reports only when the test says so. */
class FakeIntersectionObserver implements IntersectionObserver {
  static latest: FakeIntersectionObserver | undefined
  readonly root = null
  readonly rootMargin = '0px'
  readonly thresholds = [0]
  readonly targets: Element[] = []
  private readonly callback: IntersectionObserverCallback

  constructor(callback: IntersectionObserverCallback) {
    this.callback = callback
    FakeIntersectionObserver.latest = this
  }

  observe(target: Element): void {
    this.targets.push(target)
  }

  unobserve(target: Element): void {
    this.targets.splice(this.targets.indexOf(target), 1)
  }

  disconnect(): void {
    this.targets.length = 0
  }

  takeRecords(): IntersectionObserverEntry[] {
    return []
  }

  /** Reports every observed element as in view. */
  intersect(): void {
    const entry = (target: Element) => ({ isIntersecting: true, target }) as IntersectionObserverEntry
    this.callback(this.targets.map(entry), this)
  }
}

describe('MessageList and changed messages', () => {
  it('shows a tombstone in place of a deleted message, and the next message with its author again', () => {
    renderList(
      view({
        messages: [
          message('m1', bob.id, 'first'),
          { ...message('m2', bob.id, ''), deleted: true },
          message('m3', bob.id, 'after'),
        ],
      }),
    )
    const items = screen
      .getAllByRole('listitem')
      .filter((li) => li.classList.contains('message'))
    expect(items.map((li) => li.textContent?.includes('This message was deleted.'))).toEqual([false, true, false])
    expect(items[2]?.querySelector('.message-author')?.textContent).toBe('Bob')
    // A list without a chat's actions (no context) offers none.
    expect(screen.queryByRole('button', { name: /More actions/ })).toBeNull()
  })

  it('offers newer history at the bottom of a view that ends before the newest message', async () => {
    const onLoadNewer = vi.fn()
    render(
      <MessageList
        title="#general"
        view={view({ messages: [message('m1', bob.id, 'old')], hasMoreAfter: true })}
        users={users}
        me={ada}
        onLoadOlder={() => {}}
        onLoadNewer={onLoadNewer}
        onRetry={() => {}}
        onDiscard={() => {}}
      />,
    )
    await userEvent.setup().click(screen.getByRole('button', { name: 'Load newer messages' }))
    expect(onLoadNewer).toHaveBeenCalledExactlyOnceWith()
    expect(screen.getByRole('button', { name: 'Jump to latest' })).toBeDefined()
  })
})
