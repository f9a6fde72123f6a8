import { useId, useState, type FormEvent } from 'react'
import { ApiRequestError, errorMessage } from '../api/client'
import type { Chat, ChatChange, User } from '../api/types'
import type { Member } from '../state/types'
import { ConfirmDialog } from './admin/ConfirmDialog'
import { ChatFields } from './ChatFields'
import { chatTitle, mayManage } from './chatNames'
import { Modal } from './Modal'
import { personName } from './names'

interface ChatSettingsDialogProps {
  chat: Chat
  me: User
  users: Record<string, Member>
  updateChat: (change: ChatChange) => Promise<unknown>
  removeMember: (userId: string) => Promise<void>
  leaveChat: () => Promise<void>
  onClose: () => void
}

/**
 * A chat's settings. Owners and admins rename it, set its topic, archive or unarchive it, name
 * its owners (PATCH ownerIds: members only, never none) and remove members after a confirmation
 * (a DM's topic: any member); everyone may leave, after a confirmation. An archived chat takes
 * only unarchiving (and removals). The chat prop follows CHAT_UPDATED, so owners and members
 * shown are the server's.
 */
export function ChatSettingsDialog({ chat, me, users, updateChat, removeMember, leaveChat, onClose }: ChatSettingsDialogProps) {
  const manage = mayManage(chat, me)
  const editTopic = !chat.archived && (manage || chat.kind === 'dm')
  const editOwners = manage && !chat.archived
  const [name, setName] = useState(chat.name)
  const [topic, setTopic] = useState(chat.topic)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [nameError, setNameError] = useState<string | null>(null)
  const [notice, setNotice] = useState('')
  const [confirm, setConfirm] = useState<{ kind: 'leave' } | { kind: 'remove'; member: Member } | null>(null)
  const idPrefix = useId()
  const title = chatTitle(chat, users, me.id)

  // The fields follow a rename or topic from elsewhere (CHAT_UPDATED) unless edited here.
  const [heard, setHeard] = useState({ name: chat.name, topic: chat.topic })
  if (chat.name !== heard.name || chat.topic !== heard.topic) {
    setHeard({ name: chat.name, topic: chat.topic })
    if (name === heard.name) setName(chat.name)
    if (topic === heard.topic) setTopic(chat.topic)
  }

  async function run(action: () => Promise<unknown>, done: string, { nameField = false } = {}) {
    setBusy(true)
    setError(null)
    setNameError(null)
    setNotice('')
    try {
      await action()
      setNotice(done)
    } catch (err) {
      if (nameField && err instanceof ApiRequestError && err.status === 409 && !chat.archived) setNameError(errorMessage(err))
      else setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const change: ChatChange = {}
    if (manage && chat.kind !== 'dm' && name.trim() !== chat.name) change.name = name.trim()
    if (topic.trim() !== chat.topic) change.topic = topic.trim()
    if (Object.keys(change).length === 0) {
      setNotice('Nothing changed.')
      return
    }
    void run(() => updateChat(change), 'Saved.', { nameField: true })
  }

  const person = (id: string): Member =>
    users[id] ?? { id, username: id, displayName: '', role: 'member', createdAt: 0, online: false }
  const byName = (a: Member, b: Member) => personName(a).localeCompare(personName(b))
  const members = chat.memberIds.map(person).sort(byName)
  const owners = chat.ownerIds.map(person)
  const you = (member: Member) => member.id === me.id && <span className="hint"> (you)</span>

  function setOwners(ownerIds: string[], done: string) {
    void run(() => updateChat({ ownerIds }), done)
  }

  return (
    <>
      <Modal title="Chat settings" onClose={onClose}>
        <p className="hint">
          <bdi>{title}</bdi>
          {chat.kind === 'private' ? ' · private' : chat.kind === 'channel' ? ' · channel' : ' · direct message'}
          {chat.archived ? ' · archived' : ''}
        </p>
        {editTopic ? (
          <form className="form" onSubmit={save}>
            <ChatFields
              name={
                manage && chat.kind !== 'dm'
                  ? {
                      label: 'Name',
                      value: name,
                      onChange: (value) => {
                        setName(value)
                        setNameError(null)
                      },
                      error: nameError,
                    }
                  : undefined
              }
              topic={{ label: 'Topic', value: topic, onChange: setTopic }}
            />
            <div className="dialog-actions">
              <button type="submit" disabled={busy || name.trim() === ''}>
                Save
              </button>
            </div>
          </form>
        ) : (
          chat.topic && (
            <p>
              Topic: <span dir="auto">{chat.topic}</span>
            </p>
          )
        )}
        {manage && (
          <section className="settings-section" aria-labelledby={`${idPrefix}-archive`}>
            <h3 id={`${idPrefix}-archive`}>{chat.archived ? 'Archived' : 'Archive'}</h3>
            <p className="hint">
              {chat.archived
                ? 'Nobody can post in it. Unarchive it to let members write again.'
                : 'Archiving makes the chat read-only for everyone; it can be unarchived.'}
            </p>
            <div>
              <button
                type="button"
                className="secondary"
                disabled={busy}
                onClick={() =>
                  void run(() => updateChat({ archived: !chat.archived }), chat.archived ? 'Unarchived.' : 'Archived.')
                }
              >
                {chat.archived ? 'Unarchive chat' : 'Archive chat'}
              </button>
            </div>
          </section>
        )}
        {chat.kind !== 'dm' && (
          <section className="settings-section" aria-labelledby={`${idPrefix}-owners`}>
            <h3 id={`${idPrefix}-owners`}>Owners ({owners.length})</h3>
            <p className="hint">
              {owners.length === 0
                ? 'Nobody owns this chat any more: admins manage it until they make a member an owner.'
                : 'Owners rename the chat, set its topic, archive it, add and remove members and name other owners.'}
              {editOwners && owners.length === 1 && ' A chat keeps at least one owner: make another member an owner first.'}
            </p>
            {owners.length > 0 && (
              <ul className="settings-members" aria-labelledby={`${idPrefix}-owners`}>
                {owners.map((owner) => (
                  <li key={owner.id}>
                    <span className="member-name">
                      <bdi>{personName(owner)}</bdi>
                      {you(owner)}
                    </span>
                    {editOwners && owners.length > 1 && (
                      <MemberAction
                        label={`Remove owner: ${personName(owner)}`}
                        disabled={busy}
                        onClick={() =>
                          setOwners(
                            chat.ownerIds.filter((id) => id !== owner.id),
                            `${personName(owner)} is no longer an owner.`,
                          )
                        }
                      >
                        Remove owner
                      </MemberAction>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </section>
        )}
        {chat.kind !== 'dm' && (
          <section className="settings-section" aria-labelledby={`${idPrefix}-members`}>
            <h3 id={`${idPrefix}-members`}>Members ({members.length})</h3>
            <ul className="settings-members">
              {members.map((member) => (
                <li key={member.id}>
                  <span className="member-name">
                    <bdi>{personName(member)}</bdi>
                    {you(member)}
                    {chat.ownerIds.includes(member.id) && <span className="hint"> · owner</span>}
                  </span>
                  {editOwners && !chat.ownerIds.includes(member.id) && (
                    <MemberAction
                      label={`Make owner: ${personName(member)}`}
                      disabled={busy}
                      onClick={() => setOwners([...chat.ownerIds, member.id], `${personName(member)} is an owner now.`)}
                    >
                      Make owner
                    </MemberAction>
                  )}
                  {manage && member.id !== me.id && (
                    <MemberAction
                      label={`Remove ${personName(member)}`}
                      disabled={busy}
                      onClick={() => setConfirm({ kind: 'remove', member })}
                    >
                      Remove
                    </MemberAction>
                  )}
                </li>
              ))}
            </ul>
          </section>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <p className="visually-hidden" aria-live="polite">
          {notice}
        </p>
        <div className="dialog-actions">
          {/* A DM is not left but hidden (POST …/leave hides it until its next message). */}
          <button type="button" className="danger" onClick={() => setConfirm({ kind: 'leave' })}>
            {chat.kind === 'dm' ? 'Hide conversation' : 'Leave chat'}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </Modal>
      {confirm?.kind === 'remove' && (
        <ConfirmDialog
          title={`Remove ${personName(confirm.member)} from ${title}?`}
          confirmLabel="Remove"
          danger
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await removeMember(confirm.member.id)
            setConfirm(null)
            setNotice(`${personName(confirm.member)} removed.`)
          }}
        >
          <p>
            <bdi>{personName(confirm.member)}</bdi> loses this chat and its history at once
            {chat.kind === 'channel' ? '; they can join it again from Browse channels.' : '; only a member can add them again.'}
          </p>
        </ConfirmDialog>
      )}
      {confirm?.kind === 'leave' && (
        <ConfirmDialog
          title={chat.kind === 'dm' ? 'Hide this conversation?' : `Leave ${title}?`}
          confirmLabel={chat.kind === 'dm' ? 'Hide' : 'Leave'}
          danger
          onClose={() => setConfirm(null)}
          onConfirm={leaveChat}
        >
          <p>
            {chat.kind === 'channel'
              ? 'It leaves your list. You can join it again from Browse channels.'
              : chat.kind === 'private'
                ? 'It leaves your list, and only a member can add you again.'
                : 'It leaves your list, on all your devices, until someone writes in it again. Its messages stay.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  )
}

/** A small button on a member's row, named for screen readers with its visible text and then the
 * member's name ("Make owner: Bob": the visible words come first, WCAG 2.5.3). */
function MemberAction({ label, disabled, onClick, children }: { label: string; disabled: boolean; onClick: () => void; children: string }) {
  return (
    <button type="button" className="secondary small" aria-label={label} disabled={disabled} onClick={onClick}>
      {children}
    </button>
  )
}
