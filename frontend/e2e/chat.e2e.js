// @ts-check
// End-to-end scenarios of the web client against a real herald-server: messaging between two
// browsers, typing, a server crash and restart, an offline outbox, and one stream shared by tabs.
// Run with `node --test e2e/*.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  composer,
  connectionStatus,
  inLog,
  launchBrowser,
  messageLog,
  nonce,
  openChat,
  openLive,
  recordConnectionStates,
  screenshot,
  sendWithEnter,
  signIn,
  waitForConnection,
  waitInLog,
  waitUntil,
  withScene,
} from './harness.js'

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('playwright-core').Request} Request */

/** @type {Browser} */
let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

/**
 * Asserts that texts appear in this order in the page's message list.
 * @param {Page} page
 * @param {string[]} texts
 */
async function assertLogOrder(page, texts) {
  const all = (await messageLog(page).textContent()) ?? ''
  const positions = texts.map((text) => all.indexOf(text))
  assert.ok(
    positions.every((p, i) => p >= 0 && (i === 0 || p > (positions[i - 1] ?? -1))),
    `expected in this order in the message list: ${texts.join(' | ')}`,
  )
}

describe('web client end to end', () => {
  test('two users in two browsers exchange messages', { timeout: 60_000 }, () =>
    withScene(browser, 'exchange', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Launch plans', [bob.user.id])
      const a = await signedIn('alice', { screenshot: '01-sign-in' })
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)
      // Presence is live: bob's stream opening turns his dot on in alice's member list.
      await a
        .getByRole('list', { name: 'Members' })
        .getByRole('listitem')
        .filter({ hasText: /^bob, online$/ })
        .waitFor({ timeout: 10_000 })

      const n = nonce()
      const fromAlice = `Morning Bob, the launch deck is ready [${n} a1]`
      await sendWithEnter(a, fromAlice)
      assert.equal(await waitInLog(b, fromAlice), 1, 'alice → bob')

      const fromBob = `Thanks Alice, reading it now [${n} b1]`
      await composer(b).fill(fromBob)
      await b.getByRole('button', { name: 'Send', exact: true }).click()
      assert.equal(await waitInLog(a, fromBob), 1, 'bob → alice')

      const again = `Slide 4 needs the new numbers [${n} a2]`
      await sendWithEnter(a, again)
      assert.equal(await waitInLog(b, again), 1, 'alice → bob, second message')

      const conversation = [fromAlice, fromBob, again]
      for (const page of [a, b]) {
        for (const text of conversation) {
          assert.equal(await waitInLog(page, text), 1, `shown once: ${text}`)
        }
        await assertLogOrder(page, conversation)
      }
      const stored = (await bob.api.allMessages(chat.id)).map((m) => m.content)
      assert.deepEqual(stored, conversation, 'the server holds each message once, in order')
      await screenshot(a, '02-chat-view')
    }))

  test('the typing indicator appears and expires about 6 s after typing stops', { timeout: 60_000 }, () =>
    withScene(browser, 'typing', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Release notes', [bob.user.id])
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)

      const typingLine = b.getByText(/alice is typing/i)
      const startedAt = Date.now()
      // Under a second of typing: the client sends TYPING at the first keystroke and, throttled
      // to one per 3 s, no other; so the indicator expires 6 s after roughly startedAt.
      await composer(a).pressSequentially('Drafting the release notes', { delay: 20 })
      const stoppedAt = Date.now()
      await typingLine.waitFor({ timeout: 5_000 })
      await screenshot(b, '03-typing-indicator')
      assert.equal(await a.getByText(/alice is typing/i).count(), 0, 'no indicator for your own typing')

      await typingLine.waitFor({ state: 'hidden', timeout: 15_000 })
      const goneAt = Date.now()
      assert.ok(goneAt - startedAt >= 5_500, `expired too early: ${goneAt - startedAt} ms after typing began`)
      assert.ok(goneAt - stoppedAt <= 8_000, `expired too late: ${goneAt - stoppedAt} ms after typing stopped`)
    }))

  test('after a server crash the client shows Reconnecting… (never Polling), then Live, and misses nothing', { timeout: 90_000 }, (t) =>
    withScene(browser, 'restart', ['alice', 'bob'], async ({ server, team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Ops', [bob.user.id])
      const n = nonce()
      const earlier = `Deploy starts at noon [${n} before]`
      await bob.api.postMessage(chat.id, earlier)
      const a = await signedIn('alice')
      await openChat(a, chat.name)
      await waitForConnection(a, 'Live')
      assert.equal(await waitInLog(a, earlier), 1)

      const states = await recordConnectionStates(a)
      // After 3 refused connects the client polls GET /api/chats; that fails too while the
      // server is down, so the indicator must stay at Reconnecting…: Polling would claim REST works.
      const polled = a.waitForRequest((r) => r.method() === 'GET' && new URL(r.url()).pathname === '/api/chats', {
        timeout: 30_000,
      })
      await server.kill()
      await waitForConnection(a, 'Reconnecting…')
      await screenshot(a, '04-reconnecting')
      const firstChange = states.find((s) => s.state !== 'Live')
      assert.equal(
        firstChange?.state,
        'Reconnecting…',
        `first state after the crash; seen: ${states.map((s) => s.state).join(' → ')}`,
      )
      await polled
      await a.waitForTimeout(6_000) // a second poll (every 5 s) fails as well
      assert.match((await connectionStatus(a).textContent()) ?? '', /Reconnecting…/, 'while the server is down')

      const restartAt = Date.now()
      const whileDown = states.filter((s) => s.at < restartAt).map((s) => s.state)
      assert.ok(!whileDown.includes('Polling'), `never Polling while the server is down; seen: ${whileDown.join(' → ')}`)
      await server.restart()
      // Posted at once, while alice's client is still waiting out its backoff.
      const missed = [1, 2, 3].map((i) => `Missed while the server was down ${i} [${n} gap${i}]`)
      for (const text of missed) await bob.api.postMessage(chat.id, text)
      const { subscribers } = await alice.api.streamStats()
      t.diagnostic(
        subscribers === 0
          ? 'the missed messages were posted while alice had no stream open'
          : `alice had already reconnected (${subscribers} stream) when the missed messages were posted`,
      )

      await waitForConnection(a, 'Live', 30_000)
      t.diagnostic(`states: ${states.map((s) => s.state).join(' → ')}`)
      for (const text of missed) await waitInLog(a, text)
      // The stream is ordered: once a message posted now arrives, any replayed copy of an older
      // one would have arrived before it.
      const later = `Back to normal [${n} after]`
      await bob.api.postMessage(chat.id, later)
      await waitInLog(a, later)
      const all = [earlier, ...missed, later]
      for (const text of all) assert.equal(await inLog(a, text).count(), 1, `shown once: ${text}`)
      await assertLogOrder(a, all)
    }))

  test('a message sent while offline is queued and arrives exactly once when back online', { timeout: 90_000 }, () =>
    withScene(browser, 'offline', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Travel', [bob.user.id])
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)

      await a.context().setOffline(true)
      await waitForConnection(a, 'Offline')
      const n = nonce()
      const queued = [`Writing this on the train [${n} q1]`, `No signal in the tunnel [${n} q2]`]
      for (const text of queued) {
        await sendWithEnter(a, text)
        assert.equal(await waitInLog(a, text), 1, `shown at once while offline: ${text}`)
        // The row of a message waiting in the outbox says so ("Queued — will send when back online").
        await messageLog(a).getByRole('listitem').filter({ hasText: text }).getByText(/Queued/).waitFor()
      }
      await screenshot(a, '05-offline-queued')
      const onServer = (await bob.api.allMessages(chat.id)).filter((m) => queued.includes(m.content))
      assert.deepEqual(onServer, [], 'nothing reached the server while offline')

      await a.context().setOffline(false)
      for (const text of queued) await waitInLog(b, text, 30_000)
      await waitForConnection(a, 'Live', 30_000)
      const later = `Made it [${n} after]`
      await bob.api.postMessage(chat.id, later)
      await waitInLog(a, later)
      await waitInLog(b, later)
      for (const page of [a, b]) {
        for (const text of [...queued, later]) {
          assert.equal(await inLog(page, text).count(), 1, `shown once: ${text}`)
        }
        await assertLogOrder(page, [...queued, later])
      }
      const stored = (await bob.api.allMessages(chat.id)).map((m) => m.content)
      assert.deepEqual(stored, [...queued, later], 'the server holds each queued message once, in order')
    }))

  test('two tabs of one user share one stream, and the other tab takes over when the leader closes', { timeout: 60_000 }, (t) =>
    withScene(browser, 'tabs', ['alice', 'bob'], async ({ team: { alice, bob }, newContext }) => {
      const chat = await alice.api.createChat('Standup', [bob.user.id])
      const context = await newContext()
      /** Open /api/stream requests per tab: started and neither finished nor failed. */
      const open = new Map(/** @type {Array<[Page, Set<Request>]>} */ ([]))
      /** When each tab last started a stream request. */
      const started = new Map(/** @type {Array<[Page, number]>} */ ([]))
      const tab = async () => {
        const page = await context.newPage()
        const streams = new Set(/** @type {Request[]} */ ([]))
        open.set(page, streams)
        const isStream = (/** @type {Request} */ r) => new URL(r.url()).pathname === '/api/stream'
        page.on('request', (r) => {
          if (!isStream(r)) return
          streams.add(r)
          started.set(page, Date.now())
        })
        page.on('requestfinished', (r) => streams.delete(r))
        page.on('requestfailed', (r) => streams.delete(r))
        return page
      }
      const first = await tab()
      await signIn(first, alice)
      await openChat(first, chat.name)
      const second = await tab()
      await second.goto('/')
      await openChat(second, chat.name)
      await waitForConnection(first, 'Live')
      await waitForConnection(second, 'Live')

      await waitUntil(async () => (await alice.api.streamStats()).subscribers === 1, {
        what: 'the server to count one stream for both tabs',
      })
      const leaders = [first, second].filter((page) => (open.get(page)?.size ?? 0) > 0)
      assert.equal(leaders.length, 1, 'exactly one tab holds an open /api/stream request')
      const [leader] = leaders
      assert.ok(leader)
      const follower = leader === first ? second : first

      const n = nonce()
      const relayed = `Standup in five minutes [${n} m1]`
      await bob.api.postMessage(chat.id, relayed)
      assert.equal(await waitInLog(leader, relayed), 1, 'the leader shows it')
      assert.equal(await waitInLog(follower, relayed), 1, 'the follower shows it (relayed)')
      assert.equal((await alice.api.streamStats()).subscribers, 1, 'still one stream')

      const closedAt = Date.now()
      await leader.close()
      await waitUntil(() => (open.get(follower)?.size ?? 0) > 0, {
        what: 'the remaining tab to open its own stream',
        timeoutMs: 10_000,
      })
      const takeoverMs = (started.get(follower) ?? Infinity) - closedAt
      t.diagnostic(`the remaining tab opened its stream ${takeoverMs} ms after the leader closed`)
      assert.ok(takeoverMs < 5_000, `takeover took ${takeoverMs} ms`)
      await waitUntil(async () => (await alice.api.streamStats()).subscribers === 1, {
        what: 'the server to count one stream again',
      })
      await waitForConnection(follower, 'Live')

      const afterTakeover = `Who takes notes today? [${n} m2]`
      await bob.api.postMessage(chat.id, afterTakeover)
      assert.equal(await waitInLog(follower, afterTakeover), 1, 'the new leader shows new messages')
      assert.equal(await inLog(follower, relayed).count(), 1, 'and no earlier one twice')
    }))
})
