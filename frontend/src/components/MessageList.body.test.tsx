import { render, screen } from '@testing-library/react'
import { beforeAll, expect, it } from 'vitest'
import { formatterReady } from './MessageBody'
import { MessageList } from './MessageList'
import { ada, member } from './testFakes'

// MessageList renders each text message with MessageBody (MessageBody.test.tsx covers its rules);
// this checks that it hands over who is reading and which names exist.
beforeAll(() => formatterReady)

it('formats message text, highlighting mentions of the reader among known people', () => {
  const bob = member('u2', 'Bob')
  render(
    <MessageList
      title="#general"
      view={{
        messages: [
          {
            id: 'm1',
            chatId: 'c1',
            authorId: bob.id,
            content: '**ship it** @ada and @bob, not @carol',
            createdAt: Date.now(),
          },
        ],
        pending: [],
        hasMoreBefore: false,
        hasMoreAfter: false,
        loading: false,
      }}
      users={{ [ada.id]: { ...ada, online: true }, [bob.id]: bob }}
      me={ada}
      onLoadOlder={() => {}}
      onRetry={() => {}}
      onDiscard={() => {}}
    />,
  )

  const log = screen.getByRole('log')
  expect(log.querySelector('.message-content strong')?.textContent).toBe('ship it')
  expect([...log.querySelectorAll('.mention')].map((m) => m.firstChild?.textContent)).toEqual([
    '@ada',
    '@bob',
  ])
  expect(log.querySelector('.mention-me')?.firstChild?.textContent).toBe('@ada')
})
