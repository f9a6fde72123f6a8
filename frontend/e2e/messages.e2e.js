// @ts-check
/* global document, getComputedStyle */
// End-to-end scenarios of what a team does with messages once they are sent, two users in two
// browsers against a real herald-server: edit and delete (live for the other, gone from search),
// threads (the follower's toast), reactions, Markdown and links, @-autocomplete, search and the
// jump to a message, the unread divider, pins; and axe scans of the chat, thread and search views.
// Run with `node --test e2e/messages.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  animationsDone,
  axeScan,
  composer,
  inLog,
  launchBrowser,
  messageLog,
  nonce,
  openLive,
  screenshot,
  sendWithEnter,
  toastNamed,
  waitInLog,
  waitUntil,
  withScene,
} from './harness.js'

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('playwright-core').Locator} Locator */

/** @type {Browser} */
let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

/**
 * The chat's own message list ("Messages in #…"), not a thread's beside it.
 * @param {Page} page
 */
function chatLog(page) {
  return page.getByRole('log', { name: /^Messages in / })
}

/**
 * The row of the message containing text, in a list (the chat's log unless `within` says which).
 * @param {Page} page
 * @param {string} text
 * @param {Locator} [within]
 */
function messageRow(page, text, within = chatLog(page)) {
  return within.locator('.message').filter({ hasText: text })
}

/**
 * Opens a message's actions menu as a keyboard user would (focus its button, ArrowDown) and
 * chooses the item named name.
 * @param {Page} page
 * @param {Locator} row
 * @param {string} author
 * @param {string} name
 */
async function chooseAction(page, row, author, name) {
  const button = row.getByRole('button', { name: `More actions for message from ${author}`, exact: true })
  await button.focus()
  await button.press('ArrowDown')
  const menu = page.getByRole('menu', { name: 'Message actions' })
  await menu.waitFor()
  // Arrow keys walk the items: go down until the wanted one has focus, then Enter.
  const wanted = menu.getByRole('menuitem', { name, exact: true }).or(menu.getByRole('menuitemcheckbox', { name, exact: true }))
  await wanted.waitFor()
  for (let i = 0; i < 12; i++) {
    if (await wanted.evaluate((el) => el === document.activeElement)) break
    await page.keyboard.press('ArrowDown')
  }
  assert.ok(await wanted.evaluate((el) => el === document.activeElement), `the arrow keys reach "${name}"`)
  await page.keyboard.press('Enter')
  await menu.waitFor({ state: 'detached' })
}

/**
 * An element's accessible description: the texts of the elements its aria-describedby names
 * (the sidebar's link: the chat's kind, its unread badge).
 * @param {Locator} locator
 */
function description(locator) {
  return locator.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => (id ? (document.getElementById(id)?.textContent ?? '') : ''))
      .join(' '),
  )
}

/**
 * Whether any of the element is inside its message list's scrolled viewport (playwright's
 * isVisible says only that it is rendered).
 * @param {Locator} locator
 */
function inView(locator) {
  return locator.evaluate((el) => {
    const box = el.getBoundingClientRect()
    const list = el.closest('[role="log"]')?.getBoundingClientRect()
    return list !== undefined && box.bottom > list.top && box.top < list.bottom
  })
}

/**
 * The serious and critical axe violations of the page, none expected.
 * @param {Page} page
 * @param {string} name
 */
async function assertAccessible(page, name) {
  // Colours are judged at rest: a toast halfway through fading in fails contrast it has not got.
  await animationsDone(page.locator('body'))
  const violations = await axeScan(page, name)
  assert.deepEqual(violations, [], `axe: serious or critical violations in ${name}`)
}

/** @param {Page} page the search box in the top bar */
function searchBox(page) {
  return page.getByRole('combobox', { name: 'Search messages' })
}

/**
 * Searches for q from the top bar (Ctrl+K, type) and returns the results listbox.
 * @param {Page} page
 * @param {string} q
 */
async function search(page, q) {
  await page.locator('body').press('Control+k')
  const box = searchBox(page)
  await waitUntil(() => box.evaluate((el) => el === document.activeElement), { what: 'Ctrl+K to focus the search box' })
  await box.fill(q)
  return page.getByRole('listbox', { name: 'Search results' })
}

describe('messages end to end', () => {
  test('an edit reaches the other browser live; a delete is gone for both and from search', { timeout: 90_000 }, () =>
    withScene(browser, 'edit-delete', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Deploys', [bob.user.id])
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)
      const n = nonce()

      // Edit through the menu: the inline editor, Enter saves, the other browser sees it live.
      const typo = `The deploy is at 3 pm tomorow [${n} e1]`
      await sendWithEnter(a, typo)
      await waitInLog(b, typo)
      await chooseAction(a, messageRow(a, typo), 'alice', 'Edit')
      const editor = a.getByRole('textbox', { name: 'Edit message', exact: true })
      await editor.waitFor()
      const fixed = `The deploy is at 3 pm tomorrow [${n} e1]`
      await editor.fill(fixed)
      await screenshot(a, '20-edit-inline')
      await editor.press('Enter')
      await editor.waitFor({ state: 'detached' })
      await waitInLog(b, fixed)
      assert.equal(await inLog(b, typo).count(), 0, 'the old text is gone from the other browser')
      await messageRow(b, fixed).getByText('(edited)').waitFor()
      await messageRow(a, fixed).getByText('(edited)').waitFor()

      // ↑ in an empty composer edits the last own message; Escape leaves it as it was.
      await composer(a).focus()
      await composer(a).press('ArrowUp')
      await editor.waitFor()
      assert.equal(await editor.inputValue(), fixed, '↑ opens the last own message')
      await editor.press('Escape')
      await editor.waitFor({ state: 'detached' })
      assert.ok(await composer(a).evaluate((el) => el === document.activeElement), 'Escape puts focus back in the composer')
      await screenshot(b, '21-edited-live')

      // A secret pasted by mistake: bob finds it by search, alice deletes it.
      const secret = `oops the token is zebrafish${n}`
      await sendWithEnter(a, secret)
      await waitInLog(b, secret)
      let results = await search(b, `zebrafish${n}`)
      await results.getByRole('option').filter({ hasText: `zebrafish${n}` }).waitFor()
      await screenshot(b, '22-search-results')
      await assertAccessible(b, 'search')
      await searchBox(b).press('Escape')

      // Escape closes the dialog and gives focus back to the menu button it was opened from.
      const moreActions = messageRow(a, secret).getByRole('button', { name: 'More actions for message from alice', exact: true })
      await chooseAction(a, messageRow(a, secret), 'alice', 'Delete…')
      const dialog = a.getByRole('dialog', { name: 'Delete message?' })
      await dialog.waitFor()
      await a.keyboard.press('Escape')
      await dialog.waitFor({ state: 'detached' })
      assert.ok(await moreActions.evaluate((el) => el === document.activeElement), 'Escape puts focus back on More actions')
      await chooseAction(a, messageRow(a, secret), 'alice', 'Delete…')
      await dialog.waitFor()
      await screenshot(a, '23-delete-confirm')
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
      await dialog.waitFor({ state: 'detached' })
      for (const page of [a, b]) {
        await waitUntil(async () => (await inLog(page, secret).count()) === 0, { what: 'the deleted text to leave the list' })
        await messageLog(page).getByText('This message was deleted.').waitFor()
      }
      await screenshot(b, '24-deleted-for-both')
      results = await search(b, `zebrafish${n}`)
      await b.getByText(`No messages match “zebrafish${n}”.`).waitFor()
      assert.equal(await results.getByRole('option').count(), 0, 'a deleted message is not found again')
      const history = await bob.api.allMessages(chat.id)
      assert.ok(
        history.some((m) => m.deleted === true && !m.content),
        'history holds a tombstone without the content',
      )
      assert.ok(!JSON.stringify(history).includes(`zebrafish${n}`), 'the content is gone from history')
    }))

  test('a reply in a thread toasts its follower; the thread has its own composer and count', { timeout: 90_000 }, () =>
    withScene(browser, 'thread', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn, newContext }) => {
      const chat = await alice.api.createChat('Design', [bob.user.id])
      const other = await alice.api.createChat('Random', [bob.user.id])
      const n = nonce()
      const question = `Which palette for the launch page? [${n} q]`
      await alice.api.postMessage(chat.id, question)
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      // alice reads another chat: the reply toasts because she follows the thread she started.
      await openLive(other.name, a)
      await openLive(chat.name, b)

      await chooseAction(b, messageRow(b, question), 'alice', 'Reply in thread')
      const panel = b.getByRole('complementary', { name: `Thread in #${chat.name}` })
      await panel.waitFor()
      const threadComposer = panel.getByRole('group', { name: 'Reply in thread' }).getByRole('textbox', { name: 'Reply', exact: true })
      assert.ok(await threadComposer.evaluate((el) => el === document.activeElement), 'the thread composer has focus')
      const reply = `The warm one, with the darker blue [${n} r1]`
      await threadComposer.fill(reply)
      await threadComposer.press('Enter')
      await panel.getByRole('log', { name: 'Thread replies' }).getByText(reply).waitFor()

      const toast = toastNamed(a, `bob replied in #${chat.name}`)
      await toast.waitFor()
      assert.match((await toast.textContent()) ?? '', new RegExp(`darker blue \\[${n} r1\\]`))
      await screenshot(a, '25-reply-toast')

      // The reply stays in the thread; the chat shows the count under the parent.
      await messageRow(b, question).getByRole('button', { name: /^1 reply · last reply/ }).waitFor()
      assert.equal(await chatLog(b).getByText(reply).count(), 0, 'a thread-only reply is not in the chat')
      await screenshot(b, '26-thread-panel')
      await assertAccessible(b, 'thread')

      // alice opens the toast: the chat, and the thread at the reply.
      await toast.getByRole('button', { name: 'Open chat' }).click()
      const alicePanel = a.getByRole('complementary', { name: `Thread in #${chat.name}` })
      const replyRow = messageRow(a, reply, alicePanel.getByRole('log', { name: 'Thread replies' }))
      await replyRow.waitFor()
      await waitUntil(() => replyRow.evaluate((el) => el === document.activeElement), { what: 'the reply to have focus' })

      // Also to the chat: the reply shows in both places for both.
      const loud = `Shipping it with the warm one [${n} r2]`
      const aliceComposer = alicePanel.getByRole('group', { name: 'Reply in thread' }).getByRole('textbox', { name: 'Reply', exact: true })
      await alicePanel.getByRole('checkbox', { name: `Also send to #${chat.name}` }).check()
      await aliceComposer.fill(loud)
      await aliceComposer.press('Enter')
      await waitInLog(b, loud)
      await panel.getByText(loud).waitFor()
      await messageRow(b, question).getByRole('button', { name: /^2 replies · last reply/ }).waitFor()

      // On a phone the thread takes the whole screen, and Close thread goes back to the chat.
      const phone = await (await newContext({ viewport: { width: 390, height: 800 } })).newPage()
      // Opened from a link to the reply (as a notification's), signing in first.
      const parentId = (await alice.api.allMessages(chat.id))[0]?.id ?? ''
      const replies = /** @type {{ messages: import('../src/api/types').Message[] }} */ (
        await alice.api.request('GET', `/api/chats/${chat.id}/messages/${parentId}/replies`)
      )
      const replyId = replies.messages.find((m) => m.content === reply)?.id ?? ''
      await phone.goto(`/chats/${chat.id}?message=${replyId}&thread=${parentId}`)
      await phone.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
      await phone.getByLabel('Username', { exact: true }).fill(bob.user.username)
      await phone.getByLabel('Password', { exact: true }).fill(bob.password)
      await phone.getByRole('button', { name: 'Sign in', exact: true }).click()
      const phonePanel = phone.getByRole('complementary', { name: `Thread in #${chat.name}` })
      await phonePanel.getByText(reply).waitFor()
      const box = await phonePanel.boundingBox()
      assert.ok(box && box.width >= 380 && box.x <= 5, `the thread fills a 390 px screen: ${JSON.stringify(box)}`)
      await screenshot(phone, '27-thread-narrow')
      await phonePanel.getByRole('button', { name: 'Close thread' }).click()
      await phonePanel.waitFor({ state: 'detached' })
      await waitInLog(phone, question)
    }))

  test('reactions: quick ones from the menu and the picker with search, counts live for both', { timeout: 90_000 }, () =>
    withScene(browser, 'reactions', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Wins', [bob.user.id])
      const n = nonce()
      const news = `We passed 1,000 teams this morning [${n} w]`
      await alice.api.postMessage(chat.id, news)
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)

      await chooseAction(b, messageRow(b, news), 'alice', 'React with 🎉')
      const reactionsA = messageRow(a, news).getByRole('group', { name: 'Reactions' })
      const partyA = reactionsA.getByRole('button', { name: '🎉 1', exact: true })
      await partyA.waitFor()
      assert.equal(await partyA.getAttribute('aria-pressed'), 'false', 'not alice’s own reaction')
      assert.equal(
        await a.locator(`#${await partyA.getAttribute('aria-describedby')}`).textContent(),
        'bob',
        'who reacted, as the pill’s description',
      )

      // alice adds hers by clicking the pill: 2 for both, pressed for her.
      await partyA.click()
      const partyB = messageRow(b, news).getByRole('group', { name: 'Reactions' }).getByRole('button', { name: '🎉 2' })
      await partyB.waitFor()
      assert.equal(await partyB.getAttribute('aria-pressed'), 'true', 'bob’s own reaction is pressed')
      await reactionsA.getByRole('button', { name: '🎉 2' }).hover()
      await reactionsA.getByRole('tooltip').filter({ hasText: 'bob and you' }).waitFor()
      await screenshot(a, '28-reactions-tooltip')

      // The picker: search by name, pick with the keyboard.
      await chooseAction(a, messageRow(a, news), 'alice', 'Add reaction…')
      const picker = a.getByRole('dialog', { name: 'React to the message from alice' })
      await picker.waitFor()
      const find = picker.getByRole('searchbox', { name: 'Search emoji' }).or(picker.getByRole('textbox', { name: 'Search emoji' }))
      await find.fill('eyes')
      const eyes = picker.getByRole('button', { name: 'Eyes', exact: true })
      await eyes.waitFor()
      await screenshot(a, '29-emoji-picker')
      await eyes.focus()
      await eyes.press('Enter')
      await picker.waitFor({ state: 'detached' })
      await messageRow(b, news).getByRole('group', { name: 'Reactions' }).getByRole('button', { name: '👀 1' }).waitFor()

      // Taking one back goes out live too; the server agrees with what both browsers show.
      await reactionsA.getByRole('button', { name: '🎉 2' }).click()
      await messageRow(b, news).getByRole('button', { name: '🎉 1' }).waitFor()
      const [stored] = await bob.api.allMessages(chat.id)
      assert.deepEqual(
        stored?.reactions?.map((r) => [r.emoji, r.count]),
        [
          ['🎉', 1],
          ['👀', 1],
        ],
      )
    }))

  test('Markdown and links render safely; @-autocomplete and :shortcode: work from the keyboard', { timeout: 90_000 }, () =>
    withScene(browser, 'format', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Docs', [bob.user.id])
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)
      const n = nonce()

      // @-autocomplete: typing @b lists bob; Enter inserts @bob.
      const box = composer(a)
      await box.pressSequentially(`Hey @bo`)
      const people = a.getByRole('listbox', { name: 'People' })
      const option = people.getByRole('option').filter({ hasText: 'bob' })
      await option.waitFor()
      await screenshot(a, '30-mention-autocomplete')
      await box.press('Enter')
      await people.waitFor({ state: 'detached' })
      assert.equal(await box.inputValue(), 'Hey @bob ', 'Enter inserts the username and a space')
      // :shortcode: completion.
      await box.pressSequentially(`look :tada`)
      const emoji = a.getByRole('listbox', { name: 'Emoji' })
      await emoji.getByRole('option').first().waitFor()
      await box.press('Enter')
      await emoji.waitFor({ state: 'detached' })
      assert.match(await box.inputValue(), /^Hey @bob look 🎉 ?$/)

      const markdown = [
        `**bold ${n}** and _italic_ and ~~gone~~ and \`inline code\``,
        `> a quote [${n}]`,
        `- first item`,
        `- second item`,
        `See https://example.com/docs?x=${n} or [this](javascript:alert(document.domain)) or <b>raw html</b>`,
        '```',
        `const answer = 42 // ${n}`,
        '```',
      ].join('\n')
      await box.fill(`${await box.inputValue()}\n${markdown}`)
      await box.press('Enter')
      await waitInLog(b, `bold ${n}`)
      const row = messageRow(b, `bold ${n}`)
      await row.locator('strong', { hasText: `bold ${n}` }).waitFor()
      assert.equal(await row.locator('em').textContent(), 'italic')
      assert.equal(await row.locator('del').textContent(), 'gone')
      assert.equal(await row.locator('code').first().textContent(), 'inline code')
      assert.match((await row.locator('blockquote').textContent()) ?? '', new RegExp(`a quote \\[${n}\\]`))
      assert.equal(await row.getByRole('listitem').count(), 2)
      const pre = row.locator('pre')
      assert.match((await pre.textContent()) ?? '', /const answer = 42/)
      assert.match(await pre.evaluate((el) => getComputedStyle(el).fontFamily), /mono/i, 'code blocks are monospace')
      // The URL is a link that opens in a new tab without a handle on this one.
      const link = row.getByRole('link', { name: `https://example.com/docs?x=${n}` })
      assert.equal(await link.getAttribute('target'), '_blank')
      assert.equal(await link.getAttribute('rel'), 'noopener noreferrer')
      // javascript: stays text; raw HTML shows as typed.
      assert.equal(await row.locator('a[href^="javascript"]').count(), 0, 'no javascript: link')
      assert.equal(await row.getByRole('link').count(), 1, 'the only link is the https one')
      assert.match((await row.textContent()) ?? '', / or this or /, 'the refused link is its text')
      assert.equal(await row.locator('b').count(), 0, 'no raw HTML element')
      assert.match((await row.textContent()) ?? '', /<b>raw html<\/b>/)
      // bob's mention is highlighted for bob, not for alice.
      const mentionB = row.locator('.mention', { hasText: '@bob' })
      assert.match((await mentionB.getAttribute('class')) ?? '', /\bmention-me\b/)
      const mentionA = messageRow(a, `bold ${n}`).locator('.mention', { hasText: '@bob' })
      assert.doesNotMatch((await mentionA.getAttribute('class')) ?? '', /\bmention-me\b/)
      // The mention's toast is part of bob's view: scanned at rest, held by the pointer (a
      // hovered toast waits), not halfway through fading in or out.
      const toast = toastNamed(b, `alice mentioned you in #${chat.name}`)
      await toast.waitFor()
      await toast.hover()
      await assertAccessible(b, 'chat')
      await screenshot(b, '31-markdown-light')
      await b.emulateMedia({ colorScheme: 'dark' })
      await assertAccessible(b, 'chat-dark')
      await screenshot(b, '32-markdown-dark')
      await toast.getByRole('button', { name: `Dismiss: alice mentioned you in #${chat.name}` }).click()
      await toast.waitFor({ state: 'detached' })
    }))

  test('search jumps to an old message with history around it; unread opens at the divider', { timeout: 120_000 }, () =>
    withScene(browser, 'search-unread', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn, newContext }) => {
      const chat = await alice.api.createChat('History', [bob.user.id])
      const elsewhere = await alice.api.createChat('Elsewhere', [bob.user.id])
      const n = nonce()
      // An old message far above the first page, then 150 others.
      const old = `The budget spreadsheet lives in the finance drive [${n} old]`
      await alice.api.postMessage(chat.id, old)
      for (let i = 0; i < 150; i++) await alice.api.postMessage(chat.id, `filler ${i} [${n}]`)
      const b = await signedIn('bob')
      await openLive(chat.name, b)
      // Read up to here: the chat is opened, so nothing is unread.
      await waitInLog(b, `filler 149 [${n}]`)
      assert.equal(await inLog(b, old).count(), 0, 'the old message is not on the first page')

      const results = await search(b, 'spreadsheet')
      const hit = results.getByRole('option').filter({ hasText: 'spreadsheet' })
      await hit.waitFor()
      await hit.locator('mark').filter({ hasText: /^spreadsheet$/i }).waitFor()
      await searchBox(b).press('ArrowDown')
      await searchBox(b).press('Enter')
      const target = messageRow(b, old)
      await target.waitFor()
      await waitUntil(() => target.evaluate((el) => el === document.activeElement), { what: 'the found message to have focus' })
      assert.equal(await target.getAttribute('data-highlighted'), '', 'the found message is highlighted')
      assert.ok(await inView(target), 'the found message is in view')
      assert.equal(await inLog(b, `filler 0 [${n}]`).count(), 1, 'history around the message is loaded')
      // The message's link is followed, then replaced by the chat's own path (Back does not jump again).
      await waitUntil(() => new URL(b.url()).pathname === `/chats/${chat.id}` && new URL(b.url()).search === '', {
        what: 'the chat’s own path in the URL',
      })
      await screenshot(b, '33-search-jump')

      // bob leaves; 30 messages arrive; another browser of bob's opens the chat at the divider.
      await b.getByRole('link', { name: elsewhere.name, exact: true }).click()
      await b.getByRole('log', { name: `Messages in #${elsewhere.name}` }).waitFor()
      const unread = []
      for (let i = 0; i < 30; i++) unread.push((await alice.api.postMessage(chat.id, `while away ${i} [${n}]`)).content)
      const c = await (await newContext({ viewport: { width: 1280, height: 700 } })).newPage()
      await c.goto('/')
      await c.getByLabel('Username', { exact: true }).fill(bob.user.username)
      await c.getByLabel('Password', { exact: true }).fill(bob.password)
      await c.getByRole('button', { name: 'Sign in', exact: true }).click()
      const entry = c.getByRole('link', { name: chat.name, exact: true })
      await waitUntil(async () => /30 unread/.test(await description(entry)), { what: 'the sidebar to say 30 unread' })
      await entry.click()
      const divider = messageLog(c).getByText('New messages', { exact: true })
      await divider.waitFor()
      await waitUntil(() => inView(inLog(c, `while away 0 [${n}]`)), { what: 'the first unread message in view' })
      assert.ok(await inView(divider), 'the divider is in view')
      assert.ok(!(await inView(inLog(c, `while away 29 [${n}]`))), 'the newest is below, out of view')
      const jump = c.getByRole('button', { name: 'Jump to latest' })
      await jump.waitFor()
      await screenshot(c, '34-unread-divider')
      await jump.click()
      await waitUntil(() => inView(inLog(c, `while away 29 [${n}]`)), { what: 'Jump to latest to reach the newest' })
      await jump.waitFor({ state: 'detached' })

      // Read state follows READ_MARKER: bob's first browser clears its badge live.
      const firstEntry = b.getByRole('link', { name: chat.name, exact: true })
      await waitUntil(async () => !/unread/.test(await description(firstEntry)), {
        what: 'the other browser’s unread badge to clear',
      })
    }, { serverArgs: ['--message-burst', '0'] }))

  test('pins: pinned from the menu, listed from the header, live for the other', { timeout: 60_000 }, () =>
    withScene(browser, 'pins', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Onboarding', [bob.user.id])
      const n = nonce()
      const wifi = `Guest wifi password is on the fridge [${n} p]`
      await alice.api.postMessage(chat.id, wifi)
      await alice.api.postMessage(chat.id, `Welcome aboard! [${n}]`)
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)

      await chooseAction(b, messageRow(b, wifi), 'alice', 'Pin to chat')
      await messageRow(a, wifi).getByText('Pinned', { exact: true }).waitFor()
      const pinsButton = a.getByRole('button', { name: 'Pinned messages (1)' })
      await pinsButton.click()
      const list = a.getByRole('list', { name: 'Pinned messages' })
      await list.getByText(wifi).waitFor()
      await screenshot(a, '35-pinned-list')
      await a.getByRole('dialog', { name: 'Pinned messages' }).getByRole('button', { name: 'Close', exact: true }).click()
      await list.waitFor({ state: 'detached' })
      assert.ok(await pinsButton.evaluate((el) => el === document.activeElement), 'Close puts focus back on the Pinned button')
      const pins = /** @type {{ messages: import('../src/api/types').Message[] }} */ (
        await bob.api.request('GET', `/api/chats/${chat.id}/pins`)
      )
      assert.deepEqual(
        pins.messages.map((m) => [m.content, m.pinned]),
        [[wifi, true]],
      )
    }))
})
