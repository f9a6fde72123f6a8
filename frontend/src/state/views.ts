// Pure functions over ChatView, the loaded part of a chat's history. Each returns the view itself
// when nothing changed, so an unchanged view keeps its identity.
import type { MessagePage } from '../api/client'
import type { Message } from '../api/types'
import { mergeMessages } from './merge'
import type { ChatView, PendingMessage } from './types'

export const NO_PENDING: PendingMessage[] = []

/** A view whose first page is loading. */
export function loadingView(pending: PendingMessage[] = NO_PENDING): ChatView {
  return { messages: [], pending, hasMoreBefore: false, loading: true }
}

/**
 * Newly confirmed messages merged into the view. Messages older than the view's oldest one are
 * left out while older history remains on the server: loadOlder pages from the oldest message
 * shown, so showing them would hide the messages between.
 */
export function withNewMessages(view: ChatView, messages: Message[]): ChatView {
  const oldest = view.messages[0]
  const fitting = view.hasMoreBefore && oldest ? messages.filter((m) => m.id > oldest.id) : messages
  const merged = mergeMessages(view.messages, fitting)
  return merged === view.messages ? view : { ...view, messages: merged }
}

/** An older page (loadOlder's answer) added at the top. */
export function withOlderPage(view: ChatView, page: MessagePage): ChatView {
  return { ...view, messages: mergeMessages(view.messages, page.messages), hasMoreBefore: page.hasMore }
}

/**
 * The view after a refetch of the newest page (RESYNC): merged if the page reaches back to the
 * view's newest message, else started over from the page (older pages load again on scrolling),
 * so that the messages missed between the two never show as a hole. A view that held no message
 * takes the page as its first one, with the page's hasMore.
 */
export function withNewestPage(view: ChatView, page: MessagePage): ChatView {
  const first = page.messages[0]
  const newestHeld = view.messages.at(-1)
  if (newestHeld === undefined) {
    const merged = withNewMessages(view, page.messages)
    return merged.hasMoreBefore === page.hasMore ? merged : { ...merged, hasMoreBefore: page.hasMore }
  }
  if (page.hasMore && first && first.id > newestHeld.id) {
    return { ...view, messages: page.messages, hasMoreBefore: true }
  }
  return withNewMessages(view, page.messages)
}
