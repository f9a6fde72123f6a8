import { useEffect, useId, useState } from 'react'
import { ApiRequestError, errorMessage } from '../api/client'
import type { Chat, Task, TaskStatus } from '../api/types'
import { chatPath, homePath } from '../router'
import type { Member } from '../state/types'
import type { EventStream } from '../stream/types'
import { Link } from './Link'
import { chatTitle } from './chatNames'
import { personName } from './names'
import './TaskPage.css'

/** What the task page needs of the API client. */
export interface TaskApi {
  getTask(taskId: string): Promise<Task>
}

interface TaskPageProps {
  api: TaskApi
  /** TASK_COMPLETED for this task updates the page. */
  stream: Pick<EventStream, 'onEvent'>
  taskId: string
  /** To name the owner, the creator and the chat. */
  users: Record<string, Member>
  chats: readonly Chat[]
  /** The signed-in user: a DM is named by its other people. */
  meId: string
}

type Load =
  | { status: 'loading' }
  | { status: 'failed'; error: unknown }
  | { status: 'loaded'; task: Task }

const STATUS: Record<TaskStatus, { label: string; icon: string }> = {
  pending: { label: 'Pending', icon: '◷' },
  running: { label: 'Running', icon: '⟳' },
  succeeded: { label: 'Succeeded', icon: '✓' },
  failed: { label: 'Failed', icon: '✕' },
}

/** A task's results (/tasks/{id}, where "View Results" leads): GET /api/tasks/{id}, then live. */
export function TaskPage({ api, stream, taskId, users, chats, meId }: TaskPageProps) {
  const [load, setLoad] = useState<Load>({ status: 'loading' })
  const [attempt, setAttempt] = useState(0)
  const headingId = useId()

  useEffect(() => {
    let current = true
    api.getTask(taskId).then(
      (task) => {
        if (current) setLoad({ status: 'loaded', task })
      },
      (error: unknown) => {
        if (current) setLoad((l) => (l.status === 'loaded' ? l : { status: 'failed', error }))
      },
    )
    return () => {
      current = false
    }
  }, [api, taskId, attempt])

  useEffect(
    () =>
      stream.onEvent((event) => {
        if (event.type === 'TASK_COMPLETED' && event.task?.id === taskId) {
          const task = event.task
          setLoad({ status: 'loaded', task })
        } else if (event.type === 'RESYNC') {
          setAttempt((n) => n + 1)
        }
      }),
    [stream, taskId],
  )

  return (
    <section className="task-page" aria-labelledby={headingId} aria-busy={load.status === 'loading'}>
      <div className="task-header">
        <BackLink task={load.status === 'loaded' ? load.task : null} chats={chats} users={users} meId={meId} />
        <h1 id={headingId}>
          {load.status === 'loaded' ? load.task.name : load.status === 'loading' ? 'Loading task…' : 'Task'}
        </h1>
      </div>
      <div className="task-body">
        {load.status === 'failed' && (
          <TaskError error={load.error} onRetry={() => setAttempt((n) => n + 1)} />
        )}
        {load.status === 'loaded' && <TaskDetails task={load.task} users={users} chats={chats} meId={meId} />}
      </div>
    </section>
  )
}

/** Back to the task's chat, if it has one, else to the chat list. Shown at every width: this
 * page is reached from notifications, not from the sidebar. */
function BackLink({
  task,
  chats,
  users,
  meId,
}: {
  task: Task | null
  chats: readonly Chat[]
  users: Record<string, Member>
  meId: string
}) {
  const chat = task?.chatId ? chats.find((c) => c.id === task.chatId) : undefined
  return (
    <Link to={chat ? chatPath(chat.id) : homePath} className="task-back">
      <span aria-hidden="true">‹ </span>
      {chat ? (
        <>
          Back to <bdi>{chatTitle(chat, users, meId)}</bdi>
        </>
      ) : (
        'All chats'
      )}
    </Link>
  )
}

function TaskError({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  // 400: the id in the link is not even an id.
  if (error instanceof ApiRequestError && (error.status === 404 || error.status === 400)) {
    return (
      <p className="error" role="alert">
        No such task. It may have been deleted, or the link is wrong.
      </p>
    )
  }
  if (error instanceof ApiRequestError && error.status === 403) {
    return (
      <p className="error" role="alert">
        You may not see this task: only its owner, its creator and admins can.
      </p>
    )
  }
  return (
    <div className="task-retry">
      <p className="error" role="alert">
        Could not load the task: {errorMessage(error)}
      </p>
      <button type="button" className="secondary small" onClick={onRetry}>
        Try again
      </button>
    </div>
  )
}

function TaskDetails({
  task,
  users,
  chats,
  meId,
}: {
  task: Task
  users: Record<string, Member>
  chats: readonly Chat[]
  meId: string
}) {
  const status = STATUS[task.status] ?? STATUS.running
  const creatorId = task.createdBy ?? task.creatorId
  const chat = task.chatId ? chats.find((c) => c.id === task.chatId) : undefined
  const result = task.result ?? ''
  const multiline = result.includes('\n')
  const done = task.status === 'succeeded' || task.status === 'failed'

  return (
    <>
      <p className={`task-status task-${task.status}`} role="status">
        <span className="task-status-icon" aria-hidden="true">
          {status.icon}
        </span>
        {status.label}
      </p>
      <dl className="task-facts">
        <dt>Owner</dt>
        <dd>{personOrId(users, task.ownerId)}</dd>
        {creatorId && creatorId !== task.ownerId && (
          <>
            <dt>Created by</dt>
            <dd>{personOrId(users, creatorId)}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <Time at={task.createdAt} />
        </dd>
        {task.completedAt ? (
          <>
            <dt>Completed</dt>
            <dd>
              <Time at={task.completedAt} />
            </dd>
          </>
        ) : null}
        {task.chatId && (
          <>
            <dt>Chat</dt>
            <dd>
              <Link to={chatPath(task.chatId)}>
                {chat ? (
                  <bdi>{chatTitle(chat, users, meId)}</bdi>
                ) : (
                  'Open the chat'
                )}
              </Link>
            </dd>
          </>
        )}
      </dl>
      <h2 className="task-result-heading">Result</h2>
      {result === '' ? (
        <p className="muted">{done ? 'The task reported no result.' : 'No result yet: the task is still running.'}</p>
      ) : multiline ? (
        <pre className="task-result" tabIndex={0} aria-label="Result">
          {result}
        </pre>
      ) : (
        <p className="task-result task-result-line">{result}</p>
      )}
    </>
  )
}

function personOrId(users: Record<string, Member>, id: string): string {
  const user = users[id]
  return user ? personName(user) : id
}

function Time({ at }: { at: number }) {
  const date = new Date(at)
  return (
    <time dateTime={date.toISOString()}>
      {date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
    </time>
  )
}
