import { describe, expect, it } from 'vitest'
import type { Chat, Message } from '../api/types'
import {
  keepHeld,
  mergeChatList,
  mergeMessages,
  replaceMessage,
  sortChats,
  takeIncoming,
  tombstone,
  upsertChat,
  withReaction,
} from './merge'

function message(id: string): Message {
  return { id, chatId: 'c', authorId: 'u', content: id, createdAt: 0 }
}

function chat(id: string, extra: Partial<Chat> = {}): Chat {
  return { id, kind: 'private', name: id, topic: '', memberIds: ['u1'], ownerIds: ['u1'], archived: false, createdBy: 'u1', createdAt: 0, ...extra }
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

describe('versions of one message', () => {
  const held = { ...message('01'), content: 'edited', editedAt: 5 }
  const first = message('01')
  const grave = tombstone(held)

  it('keeps the held copy against a NEW_MESSAGE (keepHeld), except for its tombstone', () => {
    expect(mergeMessages([held], [first])).toEqual([held])
    expect(mergeMessages([held], [grave], keepHeld)).toEqual([grave])
  })

  it('takes the incoming copy (takeIncoming), but never brings a tombstone back to life', () => {
    expect(mergeMessages([first], [held], takeIncoming)).toEqual([held])
    expect(mergeMessages([grave], [held], takeIncoming)).toEqual([grave])
    expect(replaceMessage([grave], held)).toEqual([grave])
    const counted = { ...grave, replyCount: 3 }
    expect(replaceMessage([grave], counted)).toEqual([counted])
  })

  it('replaces only what is held, keeping the array otherwise', () => {
    const list = [message('01'), message('02')]
    expect(replaceMessage(list, message('03'))).toBe(list)
    expect(replaceMessage(list, held)).toEqual([held, message('02')])
  })

  it('makes a tombstone without content, reactions, attachment or pin, keeping the thread', () => {
    const full = {
      ...message('01'),
      parentId: '00',
      alsoToChat: true,
      reactions: [{ emoji: '👍', count: 1, userIds: ['u'] }],
      pinned: true,
      replyCount: 2,
      lastReplyAt: 9,
    }
    expect(tombstone(full)).toEqual({
      id: '01',
      chatId: 'c',
      authorId: 'u',
      content: '',
      createdAt: 0,
      deleted: true,
      parentId: '00',
      alsoToChat: true,
      replyCount: 2,
      lastReplyAt: 9,
    })
  })
})

describe('withReaction', () => {
  it('adds and removes as the server does: new emoji last, empty ones gone, repeats no-ops', () => {
    const m = message('01')
    const one = withReaction(m, 'u1', '👍', true)
    expect(one.reactions).toEqual([{ emoji: '👍', count: 1, userIds: ['u1'] }])
    const two = withReaction(withReaction(one, 'u2', '👍', true), 'u1', '🎉', true)
    expect(two.reactions).toEqual([
      { emoji: '👍', count: 2, userIds: ['u1', 'u2'] },
      { emoji: '🎉', count: 1, userIds: ['u1'] },
    ])
    expect(withReaction(two, 'u1', '👍', true)).toBe(two)
    expect(withReaction(two, 'u3', '👍', false)).toBe(two)
    const less = withReaction(withReaction(two, 'u1', '👍', false), 'u1', '🎉', false)
    expect(less.reactions).toEqual([{ emoji: '👍', count: 1, userIds: ['u2'] }])
    expect(withReaction(less, 'u2', '👍', false).reactions).toBeUndefined()
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
