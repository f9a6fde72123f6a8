// The avatar: pick a file (or drop one), see it cropped to the centred square the server keeps,
// send it with progress, or remove the current one.
import { useEffect, useId, useRef, useState, type DragEvent } from 'react'
import { errorMessage } from '../../api/client'
import type { User } from '../../api/types'
import { Avatar } from '../Avatar'
import { avatarFileProblem, xhrAvatarUpload, type AvatarTransport } from './accountModel'
import type { AccountApi } from './AccountSettings'

type UploadState =
  | { state: 'idle' }
  | { state: 'uploading'; loaded: number; total: number }
  | { state: 'done'; message: string }
  | { state: 'failed'; message: string }

export function AvatarSection({
  api,
  me,
  onUser,
  upload = xhrAvatarUpload,
}: {
  api: Pick<AccountApi, 'deleteAvatar'>
  me: User
  onUser: (user: User) => void
  upload?: AvatarTransport
}) {
  // The picked file and its object URL for the preview (revoked when replaced or dropped).
  const [picked, setPicked] = useState<{ file: File; url: string | null } | null>(null)
  const file = picked?.file ?? null
  const preview = picked?.url ?? null
  const [status, setStatus] = useState<UploadState>({ state: 'idle' })
  const [dragging, setDragging] = useState(false)
  const inputRef = useRef<HTMLInputElement>(null)
  const running = useRef<{ abort(): void } | null>(null)
  const headingId = useId()
  const inputId = useId()
  const errorId = useId()

  useEffect(() => () => running.current?.abort(), [])
  useEffect(() => () => {
    if (picked?.url) URL.revokeObjectURL(picked.url)
  }, [picked])

  function setFile(next: File | null) {
    const url = next && typeof URL.createObjectURL === 'function' ? URL.createObjectURL(next) : null
    setPicked(next ? { file: next, url } : null)
  }

  function choose(picked: File | undefined) {
    if (!picked) return
    const problem = avatarFileProblem(picked)
    if (problem) {
      setFile(null)
      setStatus({ state: 'failed', message: problem })
      return
    }
    setFile(picked)
    setStatus({ state: 'idle' })
  }

  function send() {
    if (!file) return
    setStatus({ state: 'uploading', loaded: 0, total: file.size })
    running.current = upload(file, {
      onProgress: (loaded, total) => setStatus({ state: 'uploading', loaded, total }),
      onDone: (user) => {
        running.current = null
        onUser(user)
        setFile(null)
        if (inputRef.current) inputRef.current.value = ''
        setStatus({ state: 'done', message: 'Your new picture is saved.' })
      },
      onFailed: (message) => {
        running.current = null
        setStatus({ state: 'failed', message })
      },
    })
  }

  async function remove() {
    setStatus({ state: 'uploading', loaded: 0, total: 0 })
    try {
      const user = await api.deleteAvatar()
      onUser(user)
      setStatus({ state: 'done', message: 'Your picture is removed.' })
    } catch (err) {
      setStatus({ state: 'failed', message: errorMessage(err) })
    }
  }

  function onDrop(event: DragEvent) {
    event.preventDefault()
    setDragging(false)
    choose(event.dataTransfer.files[0])
  }

  const busy = status.state === 'uploading'
  return (
    <section className="settings-group" aria-labelledby={headingId}>
      <h2 id={headingId}>Picture</h2>
      <div
        className={dragging ? 'avatar-drop dragging' : 'avatar-drop'}
        onDragOver={(e) => {
          e.preventDefault()
          setDragging(true)
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <div className="avatar-previews">
          {preview ? (
            // The server keeps the centred square: object-fit cover shows that crop.
            <img className="avatar-preview" src={preview} alt="Preview of the new picture, cropped to a square" width={96} height={96} />
          ) : (
            <Avatar user={me} size={96} />
          )}
        </div>
        <div className="avatar-controls">
          <label htmlFor={inputId}>Choose an image (PNG, JPEG or GIF, at most 5 MB), or drop one here</label>
          <input
            ref={inputRef}
            id={inputId}
            type="file"
            accept="image/png,image/jpeg,image/gif"
            disabled={busy}
            aria-describedby={status.state === 'failed' ? errorId : undefined}
            onChange={(e) => choose(e.target.files?.[0])}
          />
          <div className="settings-buttons">
            <button type="button" disabled={!file || busy} onClick={send}>
              Upload picture
            </button>
            {file && !busy && (
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setFile(null)
                  if (inputRef.current) inputRef.current.value = ''
                }}
              >
                Cancel
              </button>
            )}
            {me.avatarUrl && !file && (
              <button type="button" className="secondary" disabled={busy} onClick={() => void remove()}>
                Remove picture
              </button>
            )}
          </div>
        </div>
      </div>
      {status.state === 'uploading' && status.total > 0 && (
        <progress className="avatar-progress" max={status.total} value={status.loaded} aria-label="Uploading the picture">
          {Math.round((status.loaded / status.total) * 100)}%
        </progress>
      )}
      {status.state === 'failed' ? (
        <p id={errorId} className="error" role="alert">
          {status.message}
        </p>
      ) : (
        <p className="settings-state" role="status">
          {status.state === 'done' ? status.message : status.state === 'uploading' ? 'Uploading…' : ''}
        </p>
      )}
    </section>
  )
}
