// File uploads from the composer: POST /api/chats/{chatId}/files with XMLHttpRequest (fetch
// cannot report upload progress), then "processing" until the server's FILE_PROCESSED (or the
// message carrying the file) arrives on the stream.
import { useCallback, useEffect, useRef, useState } from 'react'
import type { FileInfo } from '../api/types'
import type { EventStream } from '../stream/types'

export interface UploadHandlers {
  /** Bytes of the request body sent so far, of total. */
  onProgress(loaded: number, total: number): void
  /** The server accepted the file (202) and queued it for processing. */
  onAccepted(file: FileInfo): void
  /** The server refused the file or the connection failed; message is fit to show. */
  onFailed(message: string): void
}

/** Sends one file; abort() cancels it (no handler is called after). */
export type UploadTransport = (
  chatId: string,
  file: File,
  handlers: UploadHandlers,
) => { abort(): void }

/** The real transport: multipart field "file", the session cookie (same origin). */
export const xhrUpload: UploadTransport = (chatId, file, handlers) => {
  const xhr = new XMLHttpRequest()
  let aborted = false
  xhr.open('POST', `/api/chats/${encodeURIComponent(chatId)}/files`)
  xhr.withCredentials = false // same-origin requests carry the cookie anyway
  xhr.setRequestHeader('Accept', 'application/json')
  xhr.upload.onprogress = (event) => {
    if (!aborted) handlers.onProgress(event.loaded, event.lengthComputable ? event.total : file.size)
  }
  xhr.onload = () => {
    if (aborted) return
    const body = parseJson(xhr.responseText)
    if (xhr.status >= 200 && xhr.status < 300 && isFileBody(body)) {
      handlers.onAccepted(body.file)
    } else {
      handlers.onFailed(uploadErrorMessage(xhr.status, body, xhr.statusText))
    }
  }
  xhr.onerror = () => {
    if (!aborted) handlers.onFailed('The upload failed: the server could not be reached.')
  }
  xhr.ontimeout = () => {
    if (!aborted) handlers.onFailed('The upload timed out.')
  }
  const form = new FormData()
  form.append('file', file, file.name)
  xhr.send(form)
  return {
    abort() {
      aborted = true
      xhr.abort()
    },
  }
}

/** What to tell the user about a refused upload. */
export function uploadErrorMessage(status: number, body: unknown, statusText = ''): string {
  const message = serverMessage(body)
  if (status === 413) {
    // The server says "Files are limited to 25 MB."; a proxy in front says nothing useful.
    const limit = message ? /(\d+(?:\.\d+)?)\s*MB/i.exec(message)?.[1] : undefined
    return limit
      ? `File is larger than the server allows (${limit} MB).`
      : 'File is larger than the server allows.'
  }
  if (message) return message
  return `The upload failed (${statusText || `HTTP ${status}`}).`
}

function serverMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null
  const { error } = body
  if (typeof error !== 'object' || error === null || !('message' in error)) return null
  return typeof error.message === 'string' ? error.message : null
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isFileBody(body: unknown): body is { file: FileInfo } {
  return (
    typeof body === 'object' &&
    body !== null &&
    'file' in body &&
    typeof body.file === 'object' &&
    body.file !== null &&
    'id' in body.file
  )
}

/** One file on its way: uploading (with progress), processing on the server, or failed. */
export interface Upload {
  /** Local id. */
  id: string
  name: string
  /** Bytes. */
  size: number
  /** 0–100, never going back. */
  percent: number
  phase: 'uploading' | 'processing' | 'failed'
  error?: string
  /** The server's id once it accepted the file. */
  fileId?: string
}

export interface Uploads {
  uploads: Upload[]
  /** Starts uploading each file (several may be in flight). */
  start: (files: readonly File[]) => void
  /** Aborts an upload in flight. */
  cancel: (id: string) => void
  /** Hides a failed (or processing) upload. */
  dismiss: (id: string) => void
}

let nextId = 0

/**
 * The uploads into chatId and their state. Progress comes from the XHR and from the server's
 * FILE_UPLOAD_PROGRESS events (whichever is further); an upload is done, and leaves the list, when
 * FILE_PROCESSED says it is ready or the message with it arrives. Uploads in flight carry on when
 * the component unmounts: the message with the file still arrives in the chat.
 */
export function useUploads(
  chatId: string,
  stream: Pick<EventStream, 'onEvent'> | null,
  transport: UploadTransport = xhrUpload,
): Uploads {
  const [uploads, setUploads] = useState<Upload[]>([])
  const requests = useRef(new Map<string, { abort(): void }>())
  /** Files processed before their POST answered (a small file on a fast server). */
  const processed = useRef(new Map<string, FileInfo>())

  const update = useCallback((id: string, change: (upload: Upload) => Upload | null) => {
    setUploads((list) =>
      list.flatMap((upload) => {
        if (upload.id !== id) return [upload]
        const next = change(upload)
        return next ? [next] : []
      }),
    )
  }, [])

  const start = useCallback(
    (files: readonly File[]) => {
      for (const file of files) {
        const id = `upload-${++nextId}`
        setUploads((list) => [...list, { id, name: file.name, size: file.size, percent: 0, phase: 'uploading' }])
        const request = transport(chatId, file, {
          onProgress(loaded, total) {
            if (total <= 0) return
            const percent = Math.min(100, Math.floor((loaded / total) * 100))
            update(id, (u) => (u.phase === 'uploading' && percent > u.percent ? { ...u, percent } : u))
          },
          onAccepted(info) {
            requests.current.delete(id)
            const done = processed.current.get(info.id) ?? (info.status === 'processing' ? undefined : info)
            update(id, (u) => afterProcessing({ ...u, percent: 100, fileId: info.id }, done))
          },
          onFailed(message) {
            requests.current.delete(id)
            update(id, (u) => ({ ...u, phase: 'failed', error: message }))
          },
        })
        requests.current.set(id, request)
      }
    },
    [chatId, transport, update],
  )

  const cancel = useCallback(
    (id: string) => {
      requests.current.get(id)?.abort()
      requests.current.delete(id)
      update(id, () => null)
    },
    [update],
  )

  const dismiss = useCallback((id: string) => update(id, () => null), [update])

  useEffect(() => {
    if (!stream) return
    return stream.onEvent((event) => {
      if (event.type === 'FILE_UPLOAD_PROGRESS' && event.chatId === chatId && event.upload) {
        const { name, loaded, total } = event.upload
        if (total <= 0) return
        const percent = Math.min(100, Math.floor((loaded / total) * 100))
        setUploads((list) => {
          // The oldest upload of that name still sending: names are not unique, but sends of one
          // name at once are rare and progress only moves forward.
          const target = list.find((u) => u.phase === 'uploading' && u.name === name && u.percent < percent)
          return target ? list.map((u) => (u === target ? { ...u, percent } : u)) : list
        })
      } else if (event.type === 'FILE_PROCESSED' && event.file) {
        const file = event.file
        processed.current.set(file.id, file)
        setUploads((list) => list.flatMap((u) => (u.fileId === file.id ? afterProcessing(u, file) ?? [] : [u])))
      } else if (event.type === 'NEW_MESSAGE' && event.message?.attachment) {
        const fileId = event.message.attachment.id
        setUploads((list) => list.filter((u) => u.fileId !== fileId))
      }
    })
  }, [stream, chatId])

  return { uploads, start, cancel, dismiss }
}

/** An accepted upload once the server processed its file (done: undefined while it has not):
 * gone when ready, failed with the server's reason, else processing. */
function afterProcessing(upload: Upload, done: FileInfo | undefined): Upload | null {
  if (!done) return { ...upload, phase: 'processing' }
  if (done.status === 'ready') return null
  return { ...upload, phase: 'failed', error: done.error || 'The server could not process the file.' }
}
