import { useEffect, useId, useState } from 'react'
import { errorMessage } from '../api/client'
import { copyText } from './clipboard'
import { Fingerprint } from './Fingerprint'
import { adminPath } from '../router'
import { Link } from './Link'
import { Modal } from './Modal'

export interface Invite {
  code: string
  /** The page that registers with the code: <origin>/join/<code>. */
  url: string
  /** Unix ms. */
  expiresAt: number
  /** How many people can register with it (the server's default: 100). */
  maxUses?: number
  /** SHA-256 fingerprint of the server's TLS certificate, when it has one ('ab:cd:…'). */
  fingerprint?: string
}

type InviteState =
  | { status: 'creating' }
  | { status: 'ready'; invite: Invite }
  | { status: 'failed'; message: string }

interface InviteDialogProps {
  /** Creates a new invite each time the dialog opens (admins only). */
  createInvite: () => Promise<Invite>
  onClose: () => void
}

export function InviteDialog({ createInvite, onClose }: InviteDialogProps) {
  const [state, setState] = useState<InviteState>({ status: 'creating' })
  const [copyNote, setCopyNote] = useState('')
  const linkId = useId()

  useEffect(() => {
    let current = true
    createInvite().then(
      (invite) => {
        if (current) setState({ status: 'ready', invite })
      },
      (err: unknown) => {
        if (current) setState({ status: 'failed', message: errorMessage(err) })
      },
    )
    return () => {
      current = false
    }
  }, [createInvite])

  async function copy(url: string) {
    const input = document.getElementById(linkId)
    setCopyNote(
      (await copyText(url, input instanceof HTMLInputElement ? input : null))
        ? 'Copied.'
        : 'Could not copy: select the link and copy it.',
    )
  }

  return (
    <Modal title="Invite people" onClose={onClose}>
      <div className="form">
        {state.status === 'creating' && <p className="muted">Creating an invite link…</p>}
        {state.status === 'failed' && (
          <p className="error" role="alert">
            Could not create an invite: {state.message}
          </p>
        )}
        {state.status === 'ready' && (
          <>
            <p>
              Anyone with this link can create an account on this server
              {state.invite.maxUses === 1
                ? ' (one person)'
                : state.invite.maxUses
                  ? ` (up to ${state.invite.maxUses} people)`
                  : ''}{' '}
              until {new Date(state.invite.expiresAt).toLocaleString()}. Share it with the people you invite.
            </p>
            <div className="copy-row">
              <input
                id={linkId}
                readOnly
                aria-label="Invite link"
                value={state.invite.url}
                onFocus={(event) => event.target.select()}
              />
              <button type="button" onClick={() => void copy(state.invite.url)}>
                Copy
              </button>
            </div>
            {state.invite.fingerprint && (
              <p className="invite-fingerprint">
                This server&apos;s certificate fingerprint (SHA-256): <Fingerprint value={state.invite.fingerprint} />
                . The join page shows the one the browser received: tell the people you invite to check that it
                is this one.
              </p>
            )}
          </>
        )}
        <p className="muted" aria-live="polite">
          {copyNote}
        </p>
        <p className="muted">
          For a single-use link, another expiry or to revoke links, go to{' '}
          <Link to={adminPath('invites')} onClick={onClose}>
            Admin › Invites
          </Link>
          .
        </p>
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Modal>
  )
}
