import { render } from '@testing-library/react'
import { expect, it, vi } from 'vitest'
import { formatterReady, MessageBody } from './MessageBody'

// The renderer's chunk could not be loaded (say, the server was updated and it is gone).
vi.mock('./FormattedText', () => {
  throw new Error('chunk failed to load')
})

it('shows the text as typed, line breaks and all, while the Markdown renderer is missing', async () => {
  await formatterReady
  const { container } = render(<MessageBody content={'**not bold**\nsecond <b>line</b>'} />)

  const body = container.firstElementChild
  expect(body?.getAttribute('dir')).toBe('auto')
  expect(body?.querySelector('strong, b')).toBeNull()
  const plain = body?.querySelector('p.message-plain')
  expect(plain?.textContent).toBe('**not bold**\nsecond <b>line</b>')
})
