import { describe, expect, it } from 'vitest'
import type { Message } from '../api/types'
import { takeIncoming } from './merge'
import type { ChatView } from './types'
import { refetchedView, withNewMessages, withPage } from './views'

function m(id: string, content = id): Message {
  return { id, chatId: 'c', authorId: 'u', content, createdAt: 0 }
}

function view(ids: string[], partial: Partial<ChatView> = {}): ChatView {
  return { messages: ids.map((id) => m(id)), pending: [], hasMoreBefore: false, hasMoreAfter: false, loading: false, ...partial }
}

const ids = (v: ChatView) => v.messages.map((x) => x.id)

describe('withNewMessages', () => {
  it('leaves out messages beyond either end while more lies there on the server', () => {
    const v = view(['03', '04'], { hasMoreBefore: true, hasMoreAfter: true })
    expect(ids(withNewMessages(v, [m('01'), m('03'), m('05')]))).toEqual(['03', '04'])
    expect(ids(withNewMessages(view(['03']), [m('01'), m('05')]))).toEqual(['01', '03', '05'])
  })
})

describe('withPage', () => {
  it('joins an overlapping page, taking over what lies beyond on its sides', () => {
    const v = view(['05', '06'], { hasMoreBefore: true })
    const joined = withPage(v, { messages: [m('03'), m('04'), m('05')], hasMore: false, hasMoreAfter: true })
    expect(ids(joined)).toEqual(['03', '04', '05', '06'])
    expect(joined).toMatchObject({ hasMoreBefore: false, hasMoreAfter: false })
  })

  it('replaces a view the page does not touch', () => {
    const placed = withPage(view(['08', '09']), { messages: [m('02'), m('03')], hasMore: true, hasMoreAfter: true })
    expect(ids(placed)).toEqual(['02', '03'])
    expect(placed).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true })
  })

  it('keeps what arrived live after a page that reaches the newest message', () => {
    const placed = withPage(view(['08']), { messages: [m('02'), m('03')], hasMore: false })
    expect(ids(placed)).toEqual(['02', '03', '08'])
  })
})

describe('refetchedView', () => {
  it('holds exactly the page and what arrived after it: nothing stale from before', () => {
    const v = view(['01', '02', '05', '06'], { unreadFrom: '05' })
    const page = { messages: [m('04'), m('05', 'edited')], hasMore: true }
    const refetched = refetchedView(v, page, takeIncoming)
    expect(refetched.messages.map((x) => `${x.id}:${x.content}`)).toEqual(['04:04', '05:edited', '06:06'])
    expect(refetched).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false, unreadFrom: '05' })
  })
})
