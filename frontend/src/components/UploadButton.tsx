import { useRef } from 'react'
import type { Upload } from './uploads'
import './uploads.css'

/** The composer's "Attach file" button: opens the file picker (several files at once). */
export function UploadButton({
  onFiles,
  disabled = false,
}: {
  onFiles: (files: File[]) => void
  disabled?: boolean
}) {
  const input = useRef<HTMLInputElement>(null)
  return (
    <>
      <button
        type="button"
        className="attach-button"
        aria-label="Attach file"
        title="Attach file"
        disabled={disabled}
        onClick={() => input.current?.click()}
      >
        <PaperclipIcon />
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        tabIndex={-1}
        aria-hidden="true"
        onChange={(event) => {
          const files = [...(event.target.files ?? [])]
          event.target.value = '' // choosing the same file again is a new upload
          if (files.length > 0) onFiles(files)
        }}
      />
    </>
  )
}

function PaperclipIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d="M16.5 6.5 8.7 14.3a1.5 1.5 0 0 0 2.1 2.1l7.8-7.8a3 3 0 0 0-4.2-4.2L6.6 12.2a4.5 4.5 0 0 0 6.4 6.4l6.5-6.5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  )
}

/** Uploads on their way: a progress bar while sending, "Processing…", or the error. */
export function UploadList({
  uploads,
  onCancel,
  onDismiss,
}: {
  uploads: readonly Upload[]
  onCancel: (id: string) => void
  onDismiss: (id: string) => void
}) {
  if (uploads.length === 0) return null
  return (
    <ul className="uploads" aria-label="Uploads">
      {uploads.map((upload) => (
        <li key={upload.id} className={`upload upload-${upload.phase}`}>
          <span className="upload-name" dir="auto">
            {upload.name}
          </span>
          {upload.phase === 'uploading' && (
            <>
              <span
                className="upload-bar"
                role="progressbar"
                aria-label={`Uploading ${upload.name}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={upload.percent}
                aria-valuetext={`${upload.percent}%`}
              >
                <span className="upload-bar-fill" style={{ width: `${upload.percent}%` }} />
              </span>
              <span className="upload-percent" aria-hidden="true">
                {upload.percent}%
              </span>
              <button
                type="button"
                className="secondary small"
                aria-label={`Cancel upload of ${upload.name}`}
                onClick={() => onCancel(upload.id)}
              >
                Cancel
              </button>
            </>
          )}
          {upload.phase === 'processing' && (
            <>
              <span className="upload-state" role="status">
                Processing…
              </span>
              <button
                type="button"
                className="secondary small"
                aria-label={`Hide ${upload.name}`}
                onClick={() => onDismiss(upload.id)}
              >
                Hide
              </button>
            </>
          )}
          {upload.phase === 'failed' && (
            <>
              <span className="upload-error error" role="alert">
                {upload.error}
              </span>
              <button
                type="button"
                className="secondary small"
                aria-label={`Dismiss the error for ${upload.name}`}
                onClick={() => onDismiss(upload.id)}
              >
                Dismiss
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  )
}
