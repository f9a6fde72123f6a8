import { describe, expect, it } from 'vitest'
import type { Chat, Message } from '../api/types'
import { mergeChatList, mergeMessages, sortChats, upsertChat } from './merge'

function message(id: string): Message {
  return { id, chatId: 'c', authorId: 'u', content: id, createdAt: 0 }
}

function chat(id: string, extra: Partial<Chat> = {}): Chat {
  return { id, name: id, memberIds: ['u1'], createdBy: 'u1', createdAt: 0, ...extra }
}

describe('mergeMessages', () => {
  it('orders by id and keeps each id once', () => {
    const incoming = [message('05'), message('01'), message('04'), message('05')]

    const merged = mergeMessages([message('02'), message('04')], incoming)

    expect(merged.map((m) => m.id)).toEqual(['01', '02', '04', '05'])
  })

  it('returns the same array when nothing is new', () => {
    const held = [message('01'), message('02')]

    expect(mergeMessages(held, [message('02')])).toBe(held)
  })
})

describe('sortChats', () => {
  it('puts the latest activity first: the newest message, or the creation of a chat without any', () => {
    const chats = [chat('01', { lastMessageId: '05' }), chat('03'), chat('02', { lastMessageId: '07' })]

    expect(sortChats(chats).map((c) => c.id)).toEqual(['02', '01', '03'])
  })
})

describe('upsertChat', () => {
  it('adds a new chat with unread 0', () => {
    expect(upsertChat([chat('01')], chat('02'))).toEqual([{ ...chat('02'), unread: 0 }, chat('01')])
  })

  it('updates name and members but keeps the unread count, read marker and newer last message', () => {
    const held = chat('01', { unread: 4, lastReadId: '03', lastMessageId: '09' })

    const update = chat('01', { name: 'renamed', memberIds: ['u1', 'u2'], lastMessageId: '05' })

    const [updated] = upsertChat([held], update)

    expect(updated).toEqual({ ...held, name: 'renamed', memberIds: ['u1', 'u2'] })
  })
})

describe('mergeChatList', () => {
  it("takes the server's list unless the stream is ahead of it, and keeps chats it does not know yet", () => {
    const held = [
      chat('01', { lastMessageId: '20', unread: 5 }), // the stream counted past the answer
      chat('02', { lastMessageId: '10', unread: 1 }), // the answer is newer
      chat('30', { unread: 0 }), // created after the answer was made
    ]
    const fetched = [
      chat('01', { lastMessageId: '15', unread: 3 }),
      chat('02', { lastMessageId: '12', unread: 2 }),
    ]

    expect(mergeChatList(held, fetched)).toEqual([
      chat('30', { unread: 0 }),
      chat('01', { lastMessageId: '20', unread: 5 }),
      chat('02', { lastMessageId: '12', unread: 2 }),
    ])
  })
})
