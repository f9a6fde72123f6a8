import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import type { Chat, ChatChange, User } from '../api/types'
import { ChatSettingsDialog } from './ChatSettingsDialog'
import { ada, chat, member } from './testFakes'

const bob = member('u2', 'Bob', true)
const carol = member('u3', 'Carol')
const users = { [ada.id]: { ...ada, online: true }, [bob.id]: bob, [carol.id]: carol }
const plainAda: User = { ...ada, role: 'member' }

function renderSettings(c: Chat, me: User = ada) {
  const updateChat = vi.fn<(change: ChatChange) => Promise<unknown>>(() => Promise.resolve())
  const removeMember = vi.fn<(userId: string) => Promise<void>>(() => Promise.resolve())
  const leaveChat = vi.fn(() => Promise.resolve())
  const props = { me, users, updateChat, removeMember, leaveChat, onClose: () => {} }
  const view = render(<ChatSettingsDialog chat={c} {...props} />)
  /** The chat as CHAT_UPDATED brings it (ChatView passes the store's). */
  const heard = (next: Chat) => view.rerender(<ChatSettingsDialog chat={next} {...props} />)
  return { updateChat, removeMember, leaveChat, heard, user: userEvent.setup() }
}

const settings = () => screen.getByRole('dialog', { name: 'Chat settings' })
const owners = () => within(settings()).getByRole('list', { name: /^Owners/ })

describe('ChatSettingsDialog', () => {
  it('lets an owner rename, set the topic and archive', async () => {
    const { updateChat, user } = renderSettings(chat('c1', 'ops', [ada.id, bob.id, carol.id]))
    const dialog = settings()

    const name = within(dialog).getByRole('textbox', { name: 'Name' })
    await user.clear(name)
    await user.type(name, 'releases')
    await user.type(within(dialog).getByRole('textbox', { name: 'Topic' }), 'Fridays')
    await user.click(within(dialog).getByRole('button', { name: 'Save' }))
    expect(updateChat).toHaveBeenCalledWith({ name: 'releases', topic: 'Fridays' })

    await user.click(within(dialog).getByRole('button', { name: 'Archive chat' }))
    expect(updateChat).toHaveBeenLastCalledWith({ archived: true })
  })

  it('says a taken name (409) at the name field', async () => {
    const { updateChat, user } = renderSettings(chat('c1', 'ops', [ada.id, bob.id]))
    updateChat.mockRejectedValueOnce(new ApiRequestError(409, 'conflict', 'A chat named #dev already exists.'))
    const name = within(settings()).getByRole('textbox', { name: 'Name' })
    await user.clear(name)
    await user.type(name, 'dev')
    await user.click(within(settings()).getByRole('button', { name: 'Save' }))
    expect(await within(settings()).findByRole('textbox', { name: 'Name', description: 'A chat named #dev already exists.' })).toBe(name)
    expect(name.getAttribute('aria-invalid')).toBe('true')
  })

  it('follows a rename and topic from elsewhere (CHAT_UPDATED), keeping what the user edits', async () => {
    const c = chat('c1', 'ops', [ada.id, bob.id])
    const { heard, user } = renderSettings(c)
    const name = within(settings()).getByRole<HTMLInputElement>('textbox', { name: 'Name' })
    const topic = within(settings()).getByRole<HTMLInputElement>('textbox', { name: 'Topic' })
    await user.type(topic, 'Mine')
    heard({ ...c, name: 'dev', topic: 'Theirs' })
    expect(name.value).toBe('dev')
    expect(topic.value).toBe('Mine')
  })

  it('removes a member only after a confirmation; Cancel returns focus to the Remove button', async () => {
    const { removeMember, user } = renderSettings(chat('c1', 'ops', [ada.id, bob.id, carol.id]))
    expect(within(settings()).queryByRole('button', { name: 'Remove Ada Lovelace' })).toBeNull()

    const remove = within(settings()).getByRole('button', { name: 'Remove Carol' })
    await user.click(remove)
    const confirm = screen.getByRole('dialog', { name: 'Remove Carol from #ops?' })
    expect(removeMember).not.toHaveBeenCalled()
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Cancel' }))
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }))
    expect(confirm.isConnected).toBe(false)
    expect(removeMember).not.toHaveBeenCalled()
    expect(document.activeElement).toBe(remove)

    await user.click(remove)
    await user.click(within(screen.getByRole('dialog', { name: 'Remove Carol from #ops?' })).getByRole('button', { name: 'Remove' }))
    expect(removeMember).toHaveBeenCalledExactlyOnceWith(carol.id)
    await vi.waitFor(() => expect(screen.queryByRole('dialog', { name: 'Remove Carol from #ops?' })).toBeNull())
    expect(settings().isConnected).toBe(true)
  })

  it('shows a refused removal in the confirmation, which stays open', async () => {
    const { removeMember, user } = renderSettings(chat('c1', 'ops', [ada.id, bob.id]))
    removeMember.mockRejectedValueOnce(new ApiRequestError(403, 'forbidden', 'Only owners and admins can remove members.'))
    await user.click(within(settings()).getByRole('button', { name: 'Remove Bob' }))
    const confirm = screen.getByRole('dialog', { name: 'Remove Bob from #ops?' })
    await user.click(within(confirm).getByRole('button', { name: 'Remove' }))
    expect((await within(confirm).findByRole('alert')).textContent).toBe('Only owners and admins can remove members.')
    expect(confirm.isConnected).toBe(true)
  })

  it('lists the owners; an owner makes a member an owner and removes an owner, never the last', async () => {
    const c = chat('c1', 'ops', [ada.id, bob.id, carol.id], 0, { kind: 'private', ownerIds: [ada.id] })
    const { updateChat, heard, user } = renderSettings(c, plainAda)
    expect(within(owners()).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Ada Lovelace (you)'])
    // The only owner cannot step down: nobody would be left to manage the chat.
    expect(within(settings()).queryByRole('button', { name: /^Remove owner/ })).toBeNull()
    expect(settings().textContent).toContain('A chat keeps at least one owner')
    expect(within(settings()).queryByRole('button', { name: 'Make owner: Ada Lovelace' })).toBeNull()

    await user.click(within(settings()).getByRole('button', { name: 'Make owner: Bob' }))
    expect(updateChat).toHaveBeenCalledExactlyOnceWith({ ownerIds: [ada.id, bob.id] })
    expect(await screen.findByText('Bob is an owner now.')).toBeDefined()

    // CHAT_UPDATED (or the answer, through the store) brings the new owners.
    heard({ ...c, ownerIds: [ada.id, bob.id] })
    expect(within(owners()).getAllByRole('listitem').map((li) => li.textContent?.replace(/Remove owner$/, ''))).toEqual([
      'Ada Lovelace (you)',
      'Bob',
    ])
    expect(within(settings()).queryByRole('button', { name: 'Make owner: Bob' })).toBeNull()
    await user.click(within(settings()).getByRole('button', { name: 'Remove owner: Bob' }))
    expect(updateChat).toHaveBeenLastCalledWith({ ownerIds: [ada.id] })
  })

  it("shows the server's refusal of an owner change", async () => {
    const c = chat('c1', 'ops', [ada.id, bob.id], 0, { ownerIds: [ada.id, bob.id] })
    const { updateChat, user } = renderSettings(c)
    updateChat.mockRejectedValueOnce(new ApiRequestError(400, 'invalid', 'A chat needs at least one owner.'))
    await user.click(within(settings()).getByRole('button', { name: 'Remove owner: Bob' }))
    expect((await within(settings()).findByRole('alert')).textContent).toBe('A chat needs at least one owner.')
  })

  it('lets an admin who is no member name owners of a chat left without any', async () => {
    const c = chat('c1', 'ops', [bob.id, carol.id], 0, { ownerIds: [] })
    const { updateChat, user } = renderSettings(c)
    expect(within(settings()).getByRole('region', { name: 'Owners (0)' }).textContent).toContain('admins manage it')
    await user.click(within(settings()).getByRole('button', { name: 'Make owner: Carol' }))
    expect(updateChat).toHaveBeenCalledExactlyOnceWith({ ownerIds: [carol.id] })
  })

  it('shows members and owners without managing tools to a member who is no owner, and leaves after confirming', async () => {
    const { leaveChat, user } = renderSettings(chat('c1', 'ops', [bob.id, ada.id], 0, { kind: 'private', ownerIds: [bob.id] }), plainAda)

    expect(screen.queryByRole('textbox', { name: 'Name' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Archive chat' })).toBeNull()
    expect(screen.queryByRole('button', { name: /^Remove/ })).toBeNull()
    expect(screen.queryByRole('button', { name: /^Make/ })).toBeNull()
    expect(screen.getByRole('region', { name: 'Members (2)' })).toBeDefined()
    expect(within(owners()).getByRole('listitem').textContent).toBe('Bob')

    const leave = screen.getByRole('button', { name: 'Leave chat' })
    await user.click(leave)
    const confirm = screen.getByRole('dialog', { name: 'Leave #ops?' })
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Cancel' }))
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }))
    expect(document.activeElement).toBe(leave)
    expect(leaveChat).not.toHaveBeenCalled()
    await user.click(leave)
    await user.click(within(screen.getByRole('dialog', { name: 'Leave #ops?' })).getByRole('button', { name: 'Leave' }))
    expect(leaveChat).toHaveBeenCalledOnce()
  })

  it('hides a DM (not "leave") after confirming', async () => {
    const { leaveChat, user } = renderSettings(chat('d1', '', [ada.id, bob.id], 0, { kind: 'dm', ownerIds: [] }), plainAda)

    expect(screen.queryByRole('button', { name: 'Leave chat' })).toBeNull()
    await user.click(screen.getByRole('button', { name: 'Hide conversation' }))
    const confirm = screen.getByRole('dialog', { name: 'Hide this conversation?' })
    expect(confirm.textContent).toContain('until someone writes in it again')
    await user.click(within(confirm).getByRole('button', { name: 'Hide' }))
    expect(leaveChat).toHaveBeenCalledOnce()
  })

  it('takes only unarchiving for an archived chat, and no owner changes', () => {
    renderSettings(chat('c1', 'ops', [ada.id, bob.id], 0, { archived: true }))

    expect(screen.queryByRole('textbox', { name: 'Name' })).toBeNull()
    expect(screen.queryByRole('button', { name: /owner/ })).toBeNull()
    expect(screen.getByRole('button', { name: 'Unarchive chat' })).toBeDefined()
  })
})
