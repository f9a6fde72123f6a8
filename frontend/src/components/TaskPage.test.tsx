import { act, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import type { Event, Task } from '../api/types'
import type { EventListener } from '../stream/types'
import { TaskPage, type TaskApi } from './TaskPage'
import { ada, chat, member } from './testFakes'

const bot = member('b1', 'Deploy Bot')

function task(change: Partial<Task> = {}): Task {
  return {
    id: 't1',
    name: 'Deploy to staging',
    status: 'running',
    ownerId: ada.id,
    createdBy: bot.id,
    chatId: 'c1',
    createdAt: Date.UTC(2026, 5, 1, 10, 0),
    ...change,
  }
}

class Stream {
  private readonly listeners = new Set<EventListener>()
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  emit(event: Partial<Event> & Pick<Event, 'type'>): void {
    act(() => {
      for (const listener of this.listeners) listener({ timestamp: 0, ...event })
    })
  }
}

function renderTask(getTask: TaskApi['getTask']) {
  const stream = new Stream()
  const api = { getTask: vi.fn(getTask) }
  render(
    <TaskPage
      api={api}
      stream={stream}
      taskId="t1"
      users={{ [ada.id]: { ...ada, online: true }, [bot.id]: bot }}
      chats={[chat('c1', 'ops', [ada.id, bot.id])]}
      meId={ada.id}
    />,
  )
  return { api, stream }
}

describe('TaskPage', () => {
  it('says it is loading, then shows a running task', async () => {
    let resolve: (t: Task) => void = () => {}
    const { api } = renderTask(() => new Promise((r) => (resolve = r)))

    expect(screen.getByRole('heading', { level: 1, name: 'Loading task…' })).toBeDefined()
    expect(api.getTask).toHaveBeenCalledExactlyOnceWith('t1')

    act(() => resolve(task()))

    expect(await screen.findByRole('heading', { level: 1, name: 'Deploy to staging' })).toBeDefined()
    expect(screen.getByRole('status').textContent).toContain('Running')
    expect(screen.getByText('No result yet: the task is still running.')).toBeDefined()
    expect(screen.getByRole('link', { name: 'Back to #ops' }).getAttribute('href')).toBe('/chats/c1')
  })

  it('shows a succeeded task with its owner, times, chat and multi-line result', async () => {
    renderTask(() =>
      Promise.resolve(
        task({ status: 'succeeded', result: 'built 3 images\nall green', completedAt: Date.UTC(2026, 5, 1, 10, 5) }),
      ),
    )

    const status = await screen.findByRole('status')
    expect(status.textContent).toContain('Succeeded')
    expect(status.className).toContain('task-succeeded')
    expect(screen.getByText('Ada Lovelace')).toBeDefined()
    expect(screen.getByText('Deploy Bot')).toBeDefined()
    expect(screen.getByText('Completed')).toBeDefined()
    expect(screen.getByRole('link', { name: '#ops' }).getAttribute('href')).toBe('/chats/c1')
    const result = screen.getByLabelText('Result')
    expect(result.tagName).toBe('PRE')
    expect(result.textContent).toBe('built 3 images\nall green')
  })

  it('shows a failed task with a one-line result in the normal font', async () => {
    renderTask(() => Promise.resolve(task({ status: 'failed', result: 'exit status 2', chatId: undefined })))

    const status = await screen.findByRole('status')
    expect(status.textContent).toContain('Failed')
    expect(status.className).toContain('task-failed')
    const result = screen.getByText('exit status 2')
    expect(result.tagName).toBe('P')
    expect(screen.queryByRole('link', { name: /#ops|Open the chat/ })).toBeNull()
    expect(screen.getByRole('link', { name: 'All chats' }).getAttribute('href')).toBe('/')
  })

  it.each([
    [404, 'not_found', /^No such task/],
    [400, 'invalid', /^No such task/],
    [403, 'forbidden', /^You may not see this task/],
  ])('explains a %i', async (status, code, text) => {
    renderTask(() => Promise.reject(new ApiRequestError(status, code, 'nope')))

    expect((await screen.findByRole('alert')).textContent).toMatch(text)
    expect(screen.queryByRole('button', { name: 'Try again' })).toBeNull()
  })

  it('offers a retry after another failure', async () => {
    let calls = 0
    const { api } = renderTask(() => (++calls === 1 ? Promise.reject(new Error('offline')) : Promise.resolve(task())))

    expect((await screen.findByRole('alert')).textContent).toBe('Could not load the task: offline')
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }))

    await screen.findByRole('heading', { level: 1, name: 'Deploy to staging' })
    expect(api.getTask).toHaveBeenCalledTimes(2)
  })

  it('updates when TASK_COMPLETED for it arrives, and ignores other tasks', async () => {
    const { stream } = renderTask(() => Promise.resolve(task()))
    await screen.findByText('No result yet: the task is still running.')

    stream.emit({ type: 'TASK_COMPLETED', task: task({ id: 't2', status: 'failed', result: 'other' }) })
    expect(screen.getByRole('status').textContent).toContain('Running')

    stream.emit({
      type: 'TASK_COMPLETED',
      task: task({ status: 'succeeded', result: 'done', completedAt: Date.UTC(2026, 5, 1, 11) }),
    })
    expect(screen.getByRole('status').textContent).toContain('Succeeded')
    expect(screen.getByText('done')).toBeDefined()
  })
})
