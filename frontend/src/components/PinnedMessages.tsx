import { useEffect, useState } from 'react'
import { errorMessage } from '../api/client'
import type { Message } from '../api/types'
import { Modal } from './Modal'

interface PinnedButtonProps {
  /** The chat's title (chatTitle: "#general", a DM's people). */
  title: string
  /** undefined until loaded. */
  pins: Message[] | undefined
  nameOf: (userId: string) => string
  /** Loads (again) the chat's pins; rejects with the reason it could not. */
  load: () => Promise<void>
  onJump: (message: Message) => void
  onUnpin: (message: Message) => void
}

/** The chat header's "Pinned" button with the count, opening the list of pinned messages (most
 * recently pinned first); an entry jumps to its message. */
export function PinnedButton({ title, pins, nameOf, load, onJump, onUnpin }: PinnedButtonProps) {
  const [open, setOpen] = useState(false)
  const count = pins?.length ?? 0
  return (
    <>
      {/* Named "Pinned messages (2)" by its text, not an aria-label, so that the name holds
          the visible "Pinned" (WCAG 2.5.3, axe label-content-name-mismatch). */}
      <button type="button" className="secondary small pinned-button" onClick={() => setOpen(true)}>
        Pinned{' '}
        <span className="visually-hidden">{`messages (${count})`}</span>
        {count > 0 && <span aria-hidden="true">{` · ${count}`}</span>}
      </button>
      {open && (
        <PinnedDialog
          title={title}
          pins={pins}
          nameOf={nameOf}
          load={load}
          onClose={() => setOpen(false)}
          onJump={(message) => {
            setOpen(false)
            onJump(message)
          }}
          onUnpin={onUnpin}
        />
      )}
    </>
  )
}

function PinnedDialog({
  title,
  pins,
  nameOf,
  load,
  onClose,
  onJump,
  onUnpin,
}: Omit<PinnedButtonProps, 'count'> & { onClose: () => void }) {
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let current = true
    // Fresh each time: pins made while the chat was not followed (another tab's RESYNC) show too.
    load().catch((err: unknown) => {
      if (current) setError(errorMessage(err))
    })
    return () => {
      current = false
    }
  }, [load])

  return (
    <Modal title="Pinned messages" onClose={onClose}>
      <p className="hint">
        In <bdi>{title}</bdi>, most recently pinned first.
      </p>
      {error && (
        <p className="error" role="alert">
          Could not load the pinned messages: {error}
        </p>
      )}
      {pins === undefined ? (
        !error && <p className="muted">Loading…</p>
      ) : pins.length === 0 ? (
        <p className="muted">
          Nothing is pinned in <bdi>{title}</bdi> yet. Pin a message from its menu.
        </p>
      ) : (
        <ul className="pin-list" aria-label={`Pinned messages in ${title}`}>
          {pins.map((message) => (
            <li key={message.id}>
              <button type="button" className="pin-entry" onClick={() => onJump(message)}>
                <span className="pin-author" dir="auto">
                  {nameOf(message.authorId)}
                </span>{' '}
                <time dateTime={new Date(message.createdAt).toISOString()} className="muted">
                  {new Date(message.createdAt).toLocaleString([], {
                    month: 'short',
                    day: 'numeric',
                    hour: 'numeric',
                    minute: '2-digit',
                  })}
                </time>
                <span className="pin-snippet" dir="auto">
                  {message.attachment ? message.attachment.name : message.content}
                </span>
              </button>
              <button
                type="button"
                className="secondary small"
                aria-label={`Unpin the message from ${nameOf(message.authorId)}`}
                onClick={() => onUnpin(message)}
              >
                Unpin
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  )
}
