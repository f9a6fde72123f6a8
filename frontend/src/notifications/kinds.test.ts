import { describe, expect, it } from 'vitest'
import { defaultSoundFor } from './sounds'
import { KIND_LABELS, NOTIFICATION_KINDS, toastKindOf } from './kinds'
import { note } from './testing'

describe('the reply kind', () => {
  it('is listed after mentions, as the server lists kinds (backend.NotificationKinds)', () => {
    expect(NOTIFICATION_KINDS).toEqual([
      'message',
      'mention',
      'reply',
      'task',
      'agent',
      'system',
      'file',
    ])
    expect(KIND_LABELS.reply).toBe('Replies')
  })

  it('toasts as a message, with the message sound', () => {
    expect(toastKindOf(note({ type: 'reply', messageId: 'm2', parentId: 'm1' }))).toBe('message')
    expect(defaultSoundFor('reply')).toBe(defaultSoundFor('message'))
  })
})
