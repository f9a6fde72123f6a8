import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { SearchPage, SearchParams, SearchResult } from '../api/client'
import type { Message } from '../api/types'
import { highlightTerms, SearchBox, searchTerms } from './SearchBox'
import { ada, chat, member } from './testFakes'

const bob = member('u2', 'Bob')
const chats = [
  chat('c1', 'general', [ada.id, bob.id]),
  chat('c2', 'random', [ada.id, bob.id]),
  chat('d1', '', [ada.id, bob.id], 0, { kind: 'dm', ownerIds: [] }),
]
const users = { [ada.id]: { ...ada, online: true }, [bob.id]: bob }

function result(id: string, chatId: string, snippet: string, extra: Partial<Message> = {}): SearchResult {
  return {
    chatId,
    snippet,
    message: { id, chatId, authorId: bob.id, content: snippet, createdAt: Date.now() - 60_000, ...extra },
  }
}

function renderSearch(search: (params: SearchParams) => Promise<SearchPage>) {
  const go = vi.fn<(path: string) => void>()
  render(
    <>
      <SearchBox search={search} chats={chats} users={users} meId={ada.id} go={go} />
      <button type="button">elsewhere</button>
    </>,
  )
  return { go, user: userEvent.setup(), box: screen.getByRole('combobox', { name: 'Search messages' }) }
}

/** The result options, once there are some. */
function results(): Promise<HTMLElement[]> {
  return within(screen.getByRole('listbox', { name: 'Search results', hidden: true })).findAllByRole('option')
}

const page: SearchPage = {
  results: [
    result('m3', 'c1', 'the deploy is done'),
    result('m2', 'c2', 'deploying now', { parentId: 'm1' }),
    result('m1', 'c1', 'who can deploy?'),
  ],
  nextCursor: 'k2',
}

describe('SearchBox', () => {
  it('searches after a pause and lists the results by chat, the words marked', async () => {
    const search = vi.fn(() => Promise.resolve(page))
    const { user, box } = renderSearch(search)

    await user.type(box, 'deploy')

    const listbox = screen.getByRole('listbox', { name: 'Search results' })
    await within(listbox).findAllByRole('option')
    expect(search).toHaveBeenCalledTimes(1) // once, after the typing stopped
    expect(search).toHaveBeenCalledWith({ q: 'deploy', limit: 20 })
    const groups = within(listbox).getAllByRole('group')
    expect(groups.map((g) => g.getAttribute('aria-labelledby') && document.getElementById(g.getAttribute('aria-labelledby') ?? '')?.textContent)).toEqual(['#general', '#random'])
    expect(within(groups[0]!).getAllByRole('option').map((o) => o.querySelector('.search-snippet')?.textContent)).toEqual([
      'the deploy is done',
      'who can deploy?',
    ])
    const marks = [...listbox.querySelectorAll('mark')].map((m) => m.textContent)
    expect(marks).toEqual(['deploy', 'deploy', 'deploying'])
    expect(box.getAttribute('aria-expanded')).toBe('true')
  })

  it('moves through the results with the arrows in the order shown, and opens one with Enter', async () => {
    const { user, box, go } = renderSearch(() => Promise.resolve(page))
    await user.type(box, 'deploy')
    const options = await results()

    await user.keyboard('{ArrowDown}')
    expect(box.getAttribute('aria-activedescendant')).toBe(options[0]!.id)
    expect(options[0]!.getAttribute('aria-selected')).toBe('true')
    await user.keyboard('{ArrowDown}')
    expect(box.getAttribute('aria-activedescendant')).toBe(options[1]!.id) // who can deploy? (#general)
    await user.keyboard('{ArrowDown}{ArrowDown}')
    expect(box.getAttribute('aria-activedescendant')).toBe(options[0]!.id) // wrapped
    await user.keyboard('{ArrowUp}')
    expect(box.getAttribute('aria-activedescendant')).toBe(options[2]!.id)

    await user.keyboard('{Enter}')
    expect(go).toHaveBeenCalledExactlyOnceWith('/chats/c2?message=m2&thread=m1')
    expect(screen.getByRole('listbox', { hidden: true }).closest('.search-panel')?.hasAttribute('hidden')).toBe(true)
  })

  it('opens a result on click', async () => {
    const { user, box, go } = renderSearch(() => Promise.resolve(page))
    await user.type(box, 'deploy')
    await results()
    await user.click(within(screen.getByRole('listbox')).getByRole('option', { name: /who can deploy/ }))
    expect(go).toHaveBeenCalledWith('/chats/c1?message=m1')
  })

  it('filters by chat and by person', async () => {
    const search = vi.fn<(params: SearchParams) => Promise<SearchPage>>(() => Promise.resolve(page))
    const { user, box } = renderSearch(search)
    await user.type(box, 'deploy')
    await results()

    await user.selectOptions(screen.getByRole('combobox', { name: 'In' }), '#random')
    await waitFor(() => expect(search).toHaveBeenLastCalledWith({ q: 'deploy', limit: 20, chatId: 'c2' }))
    await user.selectOptions(screen.getByRole('combobox', { name: 'From' }), 'Bob')
    await waitFor(() => expect(search).toHaveBeenLastCalledWith({ q: 'deploy', limit: 20, chatId: 'c2', from: bob.id }))
  })

  it('names a DM by its other person, in its results and in the chat filter, never "#"', async () => {
    const search = vi.fn<(params: SearchParams) => Promise<SearchPage>>(() =>
      Promise.resolve({ results: [result('m9', 'd1', 'deploy at noon?')] }),
    )
    const { user, box } = renderSearch(search)
    await user.type(box, 'deploy')
    await results()

    const group = within(screen.getByRole('listbox')).getByRole('group')
    expect(document.getElementById(group.getAttribute('aria-labelledby') ?? '')?.textContent).toBe('Bob')
    expect(within(screen.getByRole('combobox', { name: 'In' })).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'All chats',
      '#general',
      '#random',
      'Bob',
    ])
    await user.selectOptions(screen.getByRole('combobox', { name: 'In' }), 'Bob')
    await waitFor(() => expect(search).toHaveBeenLastCalledWith({ q: 'deploy', limit: 20, chatId: 'd1' }))
  })

  it('loads more results with the cursor', async () => {
    const search = vi.fn((params: SearchParams) =>
      Promise.resolve(params.cursor ? { results: [result('m0', 'c2', 'deploy plan')] } : page),
    )
    const { user, box } = renderSearch(search)
    await user.type(box, 'deploy')
    await user.click(await screen.findByRole('button', { name: 'Load more results' }))

    await waitFor(async () => expect(await results()).toHaveLength(4))
    expect(search).toHaveBeenLastCalledWith({ q: 'deploy', limit: 20, cursor: 'k2' })
    expect(screen.queryByRole('button', { name: 'Load more results' })).toBeNull()
  })

  it('says when nothing matches, and why a search failed, with a retry', async () => {
    const search = vi
      .fn<(params: SearchParams) => Promise<SearchPage>>(() => Promise.resolve({ results: [] }))
      .mockRejectedValueOnce(new Error('You are searching too fast.'))
    const { user, box } = renderSearch(search)
    await user.type(box, 'nothing')

    expect((await screen.findByRole('alert')).textContent).toBe('Search failed: You are searching too fast.')
    await user.click(screen.getByRole('button', { name: 'Try again' }))
    expect(await screen.findByText(/No messages match/)).toBeDefined()
  })

  it('shows a spinner while a search takes long', async () => {
    let answer: (page: SearchPage) => void = () => undefined
    const { user, box } = renderSearch(() => new Promise((resolve) => (answer = resolve)))
    await user.type(box, 'slow')
    expect(await screen.findByText('Searching…', {}, { timeout: 2000 })).toBeDefined()
    answer(page)
    await waitFor(() => expect(screen.queryByText('Searching…')).toBeNull())
  })

  it('focuses on Ctrl+K and Cmd+K, and closes on Escape, then clears', async () => {
    const { user, box } = renderSearch(() => Promise.resolve(page))
    await user.click(screen.getByRole('button', { name: 'elsewhere' }))
    await user.keyboard('{Control>}k{/Control}')
    expect(document.activeElement).toBe(box)
    await user.click(screen.getByRole('button', { name: 'elsewhere' }))
    await user.keyboard('{Meta>}k{/Meta}')
    expect(document.activeElement).toBe(box)

    await user.type(box, 'deploy')
    await results()
    await user.keyboard('{Escape}')
    expect(box.getAttribute('aria-expanded')).toBe('false')
    await user.keyboard('{Escape}')
    expect(box).toHaveProperty('value', '')
  })

  it('searches again when its results open again, by Ctrl+K in the box or by focus', async () => {
    const gone: SearchPage = { results: [] }
    const search = vi.fn<(params: SearchParams) => Promise<SearchPage>>(() => Promise.resolve(page))
    const { user, box } = renderSearch(search)
    await user.type(box, 'deploy')
    await results()
    expect(search).toHaveBeenCalledTimes(1)

    // Closed with Escape; meanwhile the messages were deleted. Ctrl+K in the box reopens.
    await user.keyboard('{Escape}')
    search.mockImplementation(() => Promise.resolve(gone))
    await user.keyboard('{Control>}k{/Control}')
    expect(box.getAttribute('aria-expanded')).toBe('true')
    expect(await screen.findByText((_, el) => el?.tagName === 'P' && el.textContent === 'No messages match “deploy”.')).toBeDefined()
    expect(search).toHaveBeenCalledTimes(2)
    expect(search).toHaveBeenLastCalledWith({ q: 'deploy', limit: 20 })

    // Focus coming back from elsewhere searches again too, once.
    search.mockImplementation(() => Promise.resolve(page))
    await user.click(screen.getByRole('button', { name: 'elsewhere' }))
    await user.keyboard('{Control>}k{/Control}')
    expect(await results()).toHaveLength(3)
    expect(search).toHaveBeenCalledTimes(3)
  })
})

describe('search highlighting', () => {
  it('reads words, prefixes and quoted phrases from the query', () => {
    expect(searchTerms('deploy* "release notes"  ops')).toEqual(['deploy', 'release notes', 'ops'])
  })

  it('marks the terms at the start of words, case-insensitively, leaving the rest as text', () => {
    render(<p data-testid="s">{highlightTerms('Redeploy? DEPLOYED the release notes (ops).', ['deploy', 'release notes', 'ops'])}</p>)
    const p = screen.getByTestId('s')
    expect([...p.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['DEPLOYED', 'release notes', 'ops'])
    expect(p.textContent).toBe('Redeploy? DEPLOYED the release notes (ops).')
  })

  it('treats a snippet as text, and regular-expression characters in terms literally', () => {
    render(<p data-testid="s">{highlightTerms('<b>a+b</b> costs $5', ['a+b', '$5'])}</p>)
    const p = screen.getByTestId('s')
    expect(p.querySelector('b')).toBeNull()
    expect([...p.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['a+b', '$5'])
  })
})
