// Pure functions over the loaded part of a chat's history (ChatView) or a thread (ThreadView):
// a contiguous stretch of messages with what lies beyond it on either side. Each returns the view
// itself when nothing changed, so an unchanged view keeps its identity.
import type { MessagePage } from '../api/client'
import type { Message } from '../api/types'
import { keepHeld, mergeMessages, type Prefer, replaceMessage } from './merge'
import type { ChatView, MessagesView, PendingMessage } from './types'

export const NO_PENDING: PendingMessage[] = []

/** A view whose first page is loading. */
export function loadingView(pending: PendingMessage[] = NO_PENDING): ChatView {
  return { messages: [], pending, hasMoreBefore: false, hasMoreAfter: false, loading: true }
}

/**
 * Newly confirmed messages merged into the view (prefer picks between two versions of one
 * message). Messages beyond the view's ends are left out while more history lies there on the
 * server: paging goes on from the ends shown, so showing them would hide the messages between.
 */
export function withNewMessages<V extends MessagesView>(view: V, messages: Message[], prefer: Prefer = keepHeld): V {
  const oldest = view.messages[0]
  const newest = view.messages.at(-1)
  const fitting = messages.filter(
    (m) =>
      !(view.hasMoreBefore && oldest && m.id < oldest.id) && !(view.hasMoreAfter && newest && m.id > newest.id),
  )
  const merged = mergeMessages(view.messages, fitting, prefer)
  return merged === view.messages ? view : { ...view, messages: merged }
}

/** The message's new state where the view holds it (see replaceMessage). */
export function withMessage<V extends MessagesView>(view: V, message: Message): V {
  const messages = replaceMessage(view.messages, message)
  return messages === view.messages ? view : { ...view, messages }
}

/** An older page (loadOlder's answer) added at the top. */
export function withOlderPage<V extends MessagesView>(view: V, page: MessagePage, prefer: Prefer = keepHeld): V {
  return { ...view, messages: mergeMessages(view.messages, page.messages, prefer), hasMoreBefore: page.hasMore }
}

/** A newer page (the answer to ?after= the newest held) added at the bottom. */
export function withNewerPage<V extends MessagesView>(view: V, page: MessagePage, prefer: Prefer = keepHeld): V {
  return { ...view, messages: mergeMessages(view.messages, page.messages, prefer), hasMoreAfter: page.hasMore }
}

/**
 * The view after loading a stretch of history that may lie anywhere (around a message, or the
 * newest page): joined with what is held when the two overlap, else in its place. Held messages
 * newer than a page that reaches the newest message (no hasMoreAfter) arrived live after the page
 * was read: they stay, so the view has no hole at its end.
 */
export function withPage<V extends MessagesView>(view: V, page: MessagePage, prefer: Prefer = keepHeld): V {
  const first = page.messages[0]
  const last = page.messages.at(-1)
  const oldest = view.messages[0]
  const newest = view.messages.at(-1)
  const hasMoreAfter = page.hasMoreAfter ?? false
  if (!first || !last) {
    // Nothing there: the page says what lies beyond.
    return { ...view, hasMoreBefore: page.hasMore, hasMoreAfter }
  }
  if (!oldest || !newest) {
    return { ...view, messages: page.messages, hasMoreBefore: page.hasMore, hasMoreAfter }
  }
  const overlaps = first.id <= newest.id && last.id >= oldest.id
  if (overlaps) {
    return {
      ...view,
      messages: mergeMessages(view.messages, page.messages, prefer),
      hasMoreBefore: first.id <= oldest.id ? page.hasMore : view.hasMoreBefore,
      hasMoreAfter: last.id >= newest.id ? hasMoreAfter : view.hasMoreAfter,
    }
  }
  if (!hasMoreAfter && oldest.id > last.id) {
    // The held messages all came after the page was read.
    return {
      ...view,
      messages: mergeMessages(page.messages, view.messages, prefer),
      hasMoreBefore: page.hasMore,
      hasMoreAfter: view.hasMoreAfter,
    }
  }
  return { ...view, messages: page.messages, hasMoreBefore: page.hasMore, hasMoreAfter }
}

/**
 * The view after a refetch (RESYNC: the stream could not fill its gap): exactly the page, with
 * what arrived live after it was read, if it reaches the newest message. Older messages held
 * beyond it are dropped rather than kept: they may have been edited or deleted meanwhile, and
 * deleted content must not stay on screen; scrolling loads them again, as they are now.
 */
export function refetchedView<V extends MessagesView>(view: V, page: MessagePage, prefer: Prefer = keepHeld): V {
  const hasMoreAfter = page.hasMoreAfter ?? false
  const last = page.messages.at(-1)
  const arrived = hasMoreAfter ? [] : last ? view.messages.filter((m) => m.id > last.id) : view.messages
  const held = new Map(view.messages.map((m) => [m.id, m]))
  const messages = mergeMessages(
    page.messages.map((m) => {
      const mine = held.get(m.id)
      return mine ? prefer(mine, m) : m
    }),
    arrived,
  )
  return { ...view, messages, hasMoreBefore: page.hasMore, hasMoreAfter }
}
