import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it } from 'vitest'
import { vi } from 'vitest'
import type { Event, FileInfo } from '../api/types'
import type { EventListener } from '../stream/types'
import { UploadButton, UploadList } from './UploadButton'
import { uploadErrorMessage, useUploads } from './uploads'

/** Plays XMLHttpRequest: records what is sent; the test drives progress and the answer. */
class FakeXhr {
  static all: FakeXhr[] = []
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown = null
  status = 0
  statusText = ''
  responseText = ''
  withCredentials = false
  aborted = false
  upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  ontimeout: (() => void) | null = null

  constructor() {
    FakeXhr.all.push(this)
  }
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }
  send(body: unknown) {
    this.body = body
  }
  abort() {
    this.aborted = true
  }
  progress(loaded: number, total: number) {
    act(() => this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent))
  }
  respond(status: number, body: unknown) {
    this.status = status
    this.responseText = JSON.stringify(body)
    act(() => this.onload?.())
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

function Harness({ stream }: { stream: Stream }) {
  const { uploads, start, cancel, dismiss } = useUploads('c 1', stream)
  return (
    <>
      <UploadList uploads={uploads} onCancel={cancel} onDismiss={dismiss} />
      <UploadButton onFiles={start} />
    </>
  )
}

function fileInfo(change: Partial<FileInfo> = {}): FileInfo {
  return {
    id: 'f1',
    chatId: 'c 1',
    uploaderId: 'u1',
    name: 'report.pdf',
    size: 2000,
    status: 'processing',
    createdAt: 0,
    ...change,
  }
}

function setup() {
  const stream = new Stream()
  const utils = render(<Harness stream={stream} />)
  const user = userEvent.setup()
  const input = utils.container.querySelector('input[type=file]') as HTMLInputElement
  async function attach(...names: string[]) {
    await user.click(screen.getByRole('button', { name: 'Attach file' }))
    await user.upload(
      input,
      names.map((name) => new File(['x'.repeat(2000)], name, { type: 'application/pdf' })),
    )
  }
  return { stream, user, attach }
}

describe('uploads', () => {
  beforeEach(() => {
    FakeXhr.all = []
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
  })

  it('posts the file as multipart field "file" and shows its progress', async () => {
    const { attach } = setup()
    await attach('report.pdf')

    const xhr = FakeXhr.all[0]!
    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe('/api/chats/c%201/files')
    expect(xhr.body).toBeInstanceOf(FormData)
    expect(((xhr.body as FormData).get('file') as File).name).toBe('report.pdf')

    const bar = screen.getByRole('progressbar', { name: 'Uploading report.pdf' })
    expect(bar.getAttribute('aria-valuenow')).toBe('0')
    xhr.progress(1000, 4000)
    expect(bar.getAttribute('aria-valuenow')).toBe('25')
    expect(bar.getAttribute('aria-valuetext')).toBe('25%')
  })

  it('takes the server’s FILE_UPLOAD_PROGRESS when it is further along, never going back', async () => {
    const { attach, stream } = setup()
    await attach('report.pdf')
    const bar = screen.getByRole('progressbar', { name: 'Uploading report.pdf' })

    stream.emit({ type: 'FILE_UPLOAD_PROGRESS', chatId: 'c 1', upload: { name: 'report.pdf', loaded: 60, total: 100 } })
    expect(bar.getAttribute('aria-valuenow')).toBe('60')
    FakeXhr.all[0]!.progress(1, 4)
    expect(bar.getAttribute('aria-valuenow')).toBe('60')
    stream.emit({ type: 'FILE_UPLOAD_PROGRESS', chatId: 'other', upload: { name: 'report.pdf', loaded: 90, total: 100 } })
    expect(bar.getAttribute('aria-valuenow')).toBe('60')
  })

  it('says "Processing…" after the upload until FILE_PROCESSED says the file is ready', async () => {
    const { attach, stream } = setup()
    await attach('report.pdf')

    FakeXhr.all[0]!.respond(202, { file: fileInfo() })
    expect(screen.queryByRole('progressbar')).toBeNull()
    expect(screen.getByText('Processing…')).toBeDefined()

    stream.emit({ type: 'FILE_PROCESSED', chatId: 'c 1', file: fileInfo({ status: 'ready' }) })
    expect(screen.queryByRole('list', { name: 'Uploads' })).toBeNull()
  })

  it('shows why processing failed', async () => {
    const { attach, stream } = setup()
    await attach('broken.png')

    stream.emit({ type: 'FILE_PROCESSED', file: fileInfo({ status: 'failed', error: 'The image is corrupt.' }) })
    FakeXhr.all[0]!.respond(202, { file: fileInfo() }) // processed before the POST answered

    expect(screen.getByRole('alert').textContent).toBe('The image is corrupt.')
  })

  it('ends when the message with the file arrives', async () => {
    const { attach, stream } = setup()
    await attach('report.pdf')
    FakeXhr.all[0]!.respond(202, { file: fileInfo() })

    stream.emit({
      type: 'NEW_MESSAGE',
      chatId: 'c 1',
      message: { id: 'm1', chatId: 'c 1', authorId: 'u1', content: '', createdAt: 0, attachment: fileInfo({ status: 'ready' }) },
    })

    expect(screen.queryByText('Processing…')).toBeNull()
  })

  it('explains a 413 with the server’s limit, and the error can be dismissed', async () => {
    const { attach, user } = setup()
    await attach('huge.iso')

    FakeXhr.all[0]!.respond(413, { error: { code: 'too_large', message: 'Files are limited to 25 MB.' } })

    expect(screen.getByRole('alert').textContent).toBe('File is larger than the server allows (25 MB).')
    await user.click(screen.getByRole('button', { name: 'Dismiss the error for huge.iso' }))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('shows other refusals with the server’s message', async () => {
    const { attach } = setup()
    await attach('a.txt')

    FakeXhr.all[0]!.respond(403, { error: { code: 'forbidden', message: 'You are not a member of this chat.' } })

    expect(screen.getByRole('alert').textContent).toBe('You are not a member of this chat.')
  })

  it('cancels one of several uploads in flight', async () => {
    const { attach, user } = setup()
    await attach('one.pdf', 'two.pdf')
    expect(FakeXhr.all).toHaveLength(2)
    expect(screen.getAllByRole('progressbar')).toHaveLength(2)

    await user.click(screen.getByRole('button', { name: 'Cancel upload of one.pdf' }))

    expect(FakeXhr.all[0]!.aborted).toBe(true)
    expect(FakeXhr.all[1]!.aborted).toBe(false)
    const list = screen.getByRole('list', { name: 'Uploads' })
    expect(within(list).getAllByRole('listitem')).toHaveLength(1)
    expect(screen.getByRole('progressbar', { name: 'Uploading two.pdf' })).toBeDefined()
    // A late answer to the cancelled request changes nothing.
    FakeXhr.all[0]!.respond(413, { error: { code: 'too_large', message: 'Files are limited to 1 MB.' } })
    expect(screen.queryByRole('alert')).toBeNull()
  })
})

describe('uploadErrorMessage', () => {
  it.each([
    [413, undefined, 'File is larger than the server allows.'],
    [413, { error: { code: 'too_large', message: 'Files are limited to 100 MB.' } }, 'File is larger than the server allows (100 MB).'],
    [502, undefined, 'The upload failed (Bad Gateway).'],
  ])('%i %j', (status, body, text) => {
    expect(uploadErrorMessage(status, body, status === 502 ? 'Bad Gateway' : '')).toBe(text)
  })
})
