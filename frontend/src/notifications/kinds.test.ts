import { describe, expect, it } from 'vitest'
import { defaultSoundFor } from './sounds'
import { KIND_LABELS, linkPath, NOTIFICATION_KINDS, toastKindOf } from './kinds'
import { note } from './testing'

describe('linkPath', () => {
  it('opens the chat of a notification without a message', () => {
    expect(linkPath(note({ link: '/chats/c1', chatId: 'c1' }))).toBe('/chats/c1')
  })

  it('opens the chat at the message a notification is about', () => {
    expect(linkPath(note({ link: '/chats/c1', chatId: 'c1', messageId: 'm9' }))).toBe('/chats/c1?message=m9')
  })

  it('opens a reply in its thread', () => {
    const reply = note({ type: 'reply', link: '/chats/c1', chatId: 'c1', messageId: 'm9', parentId: 'm1' })
    expect(linkPath(reply)).toBe('/chats/c1?message=m9&thread=m1')
  })

  it('opens tasks as before', () => {
    expect(linkPath(note({ type: 'task', link: '/tasks/t1', chatId: undefined, messageId: 'x' }))).toBe('/tasks/t1')
  })
})

describe('reply notifications', () => {
  it('show as message toasts and are a kind of their own in filters', () => {
    expect(toastKindOf(note({ type: 'reply' }))).toBe('message')
    expect(NOTIFICATION_KINDS).toContain('reply')
    expect(KIND_LABELS.reply).toBe('Replies')
    expect(defaultSoundFor('reply')).toBe(defaultSoundFor('message'))
  })
})
