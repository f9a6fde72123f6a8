import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { ApiRequestError } from '../api/client'
import type { ChannelInfo, Chat } from '../api/types'
import { BrowseChannelsDialog } from './BrowseChannelsDialog'
import { NewChatDialog } from './NewChatDialog'
import { NewMessageDialog } from './NewMessageDialog'
import { chat, member } from './testFakes'

const bob = member('u2', 'Bob', true)
const carol = member('u3', 'Carol')

describe('NewChatDialog', () => {
  it('creates a channel or private chat with a topic and members', async () => {
    const createChat = vi.fn((name: string, memberIds: string[]) => Promise.resolve(chat('c9', name, memberIds)))
    const onCreated = vi.fn<(chat: Chat) => void>()
    render(<NewChatDialog people={[carol, bob]} createChat={createChat} onCreated={onCreated} onClose={() => {}} />)
    const user = userEvent.setup()

    expect(screen.getByRole('radio', { name: 'Channel Anyone on the team can find and join it.' })).toHaveProperty('checked', true)
    await user.click(screen.getByRole('radio', { name: /Private/ }))
    await user.type(screen.getByRole('textbox', { name: 'Chat name' }), 'secret')
    await user.type(screen.getByRole('textbox', { name: 'Topic (optional)' }), ' Plans ')
    await user.click(screen.getByRole('checkbox', { name: 'Bob' }))
    await user.click(screen.getByRole('button', { name: 'Create' }))

    expect(createChat).toHaveBeenCalledExactlyOnceWith('secret', [bob.id], { kind: 'private', topic: 'Plans' })
    expect(onCreated).toHaveBeenCalledOnce()
  })

  it('says at the name field that the name is taken (409), and keeps the dialog open', async () => {
    const createChat = vi.fn(() =>
      Promise.reject(new ApiRequestError(409, 'conflict', 'A chat named #ops already exists.')),
    )
    render(<NewChatDialog people={[]} createChat={createChat} onCreated={() => {}} onClose={() => {}} />)
    const user = userEvent.setup()
    const name = screen.getByRole('textbox', { name: 'Chat name' })

    await user.type(name, 'OPS')
    await user.click(screen.getByRole('button', { name: 'Create' }))

    expect(await screen.findByRole('alert')).toHaveProperty('textContent', 'A chat named #ops already exists.')
    expect(name.getAttribute('aria-invalid')).toBe('true')
    expect(screen.getByRole('textbox', { name: 'Chat name', description: 'A chat named #ops already exists.' })).toBe(name)
    expect(document.activeElement).toBe(name)
    await user.type(name, 'x')
    expect(name.getAttribute('aria-invalid')).toBeNull()
  })
})

describe('BrowseChannelsDialog', () => {
  const channels: ChannelInfo[] = [
    { id: 'c2', name: 'ops', topic: 'On call rota', ownerIds: ['u2'], createdAt: 2, memberCount: 3, joined: false },
    { id: 'c1', name: 'general', ownerIds: ['u1'], createdAt: 1, memberCount: 1, joined: true },
  ]

  it('lists channels with topic and member count, filters them, joins and opens', async () => {
    const join = vi.fn((id: string) => Promise.resolve(chat(id, id, ['u1'])))
    const onOpen = vi.fn<(id: string) => void>()
    render(<BrowseChannelsDialog browse={() => Promise.resolve(channels)} join={join} onOpen={onOpen} onClose={() => {}} />)
    const user = userEvent.setup()

    const list = await screen.findByRole('list', { name: 'Channels' })
    const items = within(list).getAllByRole('listitem')
    expect(items.map((i) => i.textContent)).toEqual([
      '#general1 member · You are a memberOpen',
      '#opsOn call rota3 membersJoin',
    ])
    await user.type(screen.getByRole('searchbox', { name: 'Search channels' }), 'rota')
    expect(screen.getByText('1 channel')).toBeDefined()
    expect(screen.queryByRole('button', { name: 'Open #general' })).toBeNull()

    await user.click(screen.getByRole('button', { name: 'Join #ops' }))
    expect(join).toHaveBeenCalledExactlyOnceWith('c2')
    expect(onOpen).toHaveBeenCalledExactlyOnceWith('c2')
  })

  it('opens a channel the user is in, from the keyboard', async () => {
    const onOpen = vi.fn<(id: string) => void>()
    render(<BrowseChannelsDialog browse={() => Promise.resolve(channels)} join={vi.fn()} onOpen={onOpen} onClose={() => {}} />)
    const user = userEvent.setup()
    const open = await screen.findByRole('button', { name: 'Open #general' })

    open.focus()
    await user.keyboard('{Enter}')

    expect(onOpen).toHaveBeenCalledExactlyOnceWith('c1')
  })

  it('says why the list could not be loaded', async () => {
    render(<BrowseChannelsDialog browse={() => Promise.reject(new Error('offline'))} join={vi.fn()} onOpen={() => {}} onClose={() => {}} />)

    expect((await screen.findByRole('alert')).textContent).toBe('Could not load the channels: offline')
  })
})

describe('NewMessageDialog', () => {
  it('starts a DM with the people chosen, 7 at most', async () => {
    const people = Array.from({ length: 9 }, (_, i) => member(`p${i}`, `Person ${i}`))
    const createDM = vi.fn((ids: string[]) => Promise.resolve(chat('d1', '', ['u1', ...ids], 0, { kind: 'dm' })))
    const onCreated = vi.fn<(chat: Chat) => void>()
    render(<NewMessageDialog people={people} createDM={createDM} onCreated={onCreated} onClose={() => {}} />)
    const user = userEvent.setup()

    expect(screen.getByRole('button', { name: 'Start' })).toHaveProperty('disabled', true)
    for (let i = 0; i < 7; i++) await user.click(screen.getByRole('checkbox', { name: `Person ${i}` }))
    expect(screen.getByRole('checkbox', { name: 'Person 8' })).toHaveProperty('disabled', true)
    expect(screen.getByText(/That is the most for one direct message/)).toBeDefined()
    await user.click(screen.getByRole('checkbox', { name: 'Person 6' }))
    expect(screen.getByRole('checkbox', { name: 'Person 8' })).toHaveProperty('disabled', false)
    await user.type(screen.getByRole('searchbox', { name: 'Find people' }), 'person 8')
    expect(screen.getAllByRole('checkbox')).toHaveLength(1)
    await user.click(screen.getByRole('checkbox', { name: 'Person 8' }))
    await user.click(screen.getByRole('button', { name: 'Start' }))

    expect(createDM).toHaveBeenCalledExactlyOnceWith(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p8'])
    expect(onCreated).toHaveBeenCalledOnce()
  })
})
