import { useEffect, useId, useState } from 'react'
import { errorMessage } from '../api/client'
import type { ChannelInfo, Chat } from '../api/types'
import { Modal } from './Modal'

interface BrowseChannelsDialogProps {
  browse: () => Promise<ChannelInfo[]>
  join: (chatId: string) => Promise<Chat>
  /** Open the chat (one the user is in, or has just joined); the parent closes the dialog. */
  onOpen: (chatId: string) => void
  onClose: () => void
}

/** Every channel of the team that is not archived, with its topic and member count: Join, or Open
 * for those the user is in. A search filters by name and topic. */
export function BrowseChannelsDialog({ browse, join, onOpen, onClose }: BrowseChannelsDialogProps) {
  const [channels, setChannels] = useState<ChannelInfo[] | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [query, setQuery] = useState('')
  const [joining, setJoining] = useState<string | null>(null)
  const [joinError, setJoinError] = useState<string | null>(null)
  const idPrefix = useId()

  useEffect(() => {
    let current = true
    browse().then(
      (list) => {
        if (current) setChannels([...list].sort((a, b) => a.name.localeCompare(b.name)))
      },
      (err: unknown) => {
        if (current) setLoadError(errorMessage(err))
      },
    )
    return () => {
      current = false
    }
  }, [browse])

  async function joinChannel(channel: ChannelInfo) {
    setJoining(channel.id)
    setJoinError(null)
    try {
      await join(channel.id)
      onOpen(channel.id)
    } catch (err) {
      setJoinError(`Could not join #${channel.name}: ${errorMessage(err)}`)
      setJoining(null)
    }
  }

  const words = query.trim().toLowerCase()
  const shown = (channels ?? []).filter(
    (c) => words === '' || c.name.toLowerCase().includes(words) || (c.topic ?? '').toLowerCase().includes(words),
  )
  const countId = `${idPrefix}-count`
  return (
    <Modal title="Browse channels" onClose={onClose}>
      <label className="field">
        <span>Search channels</span>
        <input
          type="search"
          value={query}
          placeholder="Name or topic"
          aria-describedby={countId}
          onChange={(event) => setQuery(event.target.value)}
        />
      </label>
      <p id={countId} className="hint" aria-live="polite">
        {channels === null
          ? loadError
            ? ''
            : 'Loading channels…'
          : `${shown.length} ${shown.length === 1 ? 'channel' : 'channels'}`}
      </p>
      {loadError && (
        <p className="error" role="alert">
          Could not load the channels: {loadError}
        </p>
      )}
      {joinError && (
        <p className="error" role="alert">
          {joinError}
        </p>
      )}
      {channels !== null && channels.length === 0 && (
        <p className="muted">No open channels to join (archived ones are not listed). Create one with New chat.</p>
      )}
      {shown.length > 0 && (
        <ul className="channel-list" aria-label="Channels">
          {shown.map((channel) => (
            <li key={channel.id} className="channel-item">
              <div className="channel-info">
                <span className="channel-name">
                  <span className="hash" aria-hidden="true">
                    #
                  </span>
                  <bdi>{channel.name}</bdi>
                </span>
                {channel.topic && (
                  <span className="channel-topic" dir="auto">
                    {channel.topic}
                  </span>
                )}
                <span className="hint">
                  {channel.memberCount} {channel.memberCount === 1 ? 'member' : 'members'}
                  {channel.joined ? ' · You are a member' : ''}
                </span>
              </div>
              {channel.joined ? (
                <button
                  type="button"
                  className="secondary small"
                  aria-label={`Open #${channel.name}`}
                  onClick={() => onOpen(channel.id)}
                >
                  Open
                </button>
              ) : (
                <button
                  type="button"
                  className="small"
                  aria-label={`Join #${channel.name}`}
                  disabled={joining !== null}
                  onClick={() => void joinChannel(channel)}
                >
                  {joining === channel.id ? 'Joining…' : 'Join'}
                </button>
              )}
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
