// @ts-check
// The offline shell: the service worker keeps the app shell and the last viewed chats, so a reload
// without network (and without a server) shows Herald, Offline, the saved messages marked as
// possibly out of date, and an outbox that still queues; back online the queued message sends.
// Run with `node --test e2e/offline.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  connectionStatus,
  launchBrowser,
  messageLog,
  nonce,
  openChat,
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

/** @type {Browser} */
let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

/**
 * Waits until the service worker controls the page.
 * @param {Page} page
 */
async function waitForServiceWorker(page) {
  await waitUntil(() => page.evaluate(() => navigator.serviceWorker.controller !== null), {
    what: 'the service worker to control the page',
  })
}

/**
 * The URLs (path and query) of every response held in the page's data caches, per cache.
 * @param {Page} page
 * @returns {Promise<Record<string, string[]>>}
 */
function dataCaches(page) {
  return page.evaluate(async () => {
    /** @type {Record<string, string[]>} */
    const held = {}
    const storage = globalThis.caches
    for (const name of await storage.keys()) {
      if (!name.startsWith('herald-data-')) continue
      const cache = await storage.open(name)
      held[name] = (await cache.keys()).map((r) => {
        const url = new URL(r.url)
        return url.pathname + url.search
      })
    }
    return held
  })
}

/** @param {Page} page the note beside the indicator while saved copies are shown */
function savedCopyNote(page) {
  return page.getByText('Saved copy, may be out of date')
}

describe('offline shell', () => {
  test('a reload without network or server shows Herald, Offline, the saved messages and the outbox; back online the queued message sends', { timeout: 120_000 }, () =>
    withScene(browser, 'offline-shell', ['alice', 'bob'], async ({ server, team: { alice, bob }, newContext }) => {
      const chat = await alice.api.createChat('Field notes', [bob.user.id])
      const n = nonce()
      const earlier = [`Tide tables are in the drive [${n} e1]`, `Boat leaves at 6 [${n} e2]`]
      for (const text of earlier) await bob.api.postMessage(chat.id, text)

      const context = await newContext()
      const a = await context.newPage()
      await a.goto('/')
      await waitForServiceWorker(a)
      await signIn(a, alice)
      await openChat(a, chat.name)
      await waitForConnection(a, 'Live')
      for (const text of earlier) await waitInLog(a, text)
      const chatUrl = a.url()

      const held = Object.values(await dataCaches(a))
      assert.equal(held.length, 1, 'one data cache: alice’s')
      const paths = (held[0] ?? []).map((u) => u.split('?')[0] ?? u)
      for (const p of ['/api/me', '/api/chats', '/api/users', `/api/chats/${chat.id}/messages`]) {
        assert.ok(paths.includes(p), `saved: ${p}; held: ${paths.join(', ')}`)
      }
      assert.ok(
        paths.every((p) => /^\/api\/(me|chats|users|chats\/[^/]+\/messages)$/.test(p)),
        `nothing else is saved (no stream, no search): ${paths.join(', ')}`,
      )

      // No network, no server: only the service worker's caches can answer.
      await context.setOffline(true)
      await waitForConnection(a, 'Offline')
      await server.kill()
      await a.reload()
      assert.equal(a.url(), chatUrl)
      await waitForConnection(a, 'Offline')
      for (const text of earlier) await waitInLog(a, text)
      await savedCopyNote(a).waitFor()
      await screenshot(a, '40-offline-shell')

      const queued = `Written offline [${n} q1]`
      await sendWithEnter(a, queued)
      assert.equal(await waitInLog(a, queued), 1, 'shown at once while offline')
      await messageLog(a).getByRole('listitem').filter({ hasText: queued }).getByText(/Queued/).waitFor()
      await screenshot(a, '41-offline-queued')
      await a.emulateMedia({ colorScheme: 'dark' })
      await screenshot(a, '42-offline-queued-dark')
      await a.emulateMedia({ colorScheme: 'light' })
      await a.setViewportSize({ width: 390, height: 800 })
      await screenshot(a, '43-offline-queued-narrow')
      await a.setViewportSize({ width: 1280, height: 800 })
      assert.match((await connectionStatus(a).textContent()) ?? '', /Offline/, 'still Offline: nothing pretends to be live')

      // Back: the server first, then the network. The outbox sends, the stream goes live and the
      // note goes away.
      await server.restart()
      await context.setOffline(false)
      await waitForConnection(a, 'Live', 30_000)
      await waitUntil(
        async () => (await bob.api.allMessages(chat.id)).some((m) => m.content === queued),
        { what: 'the queued message to reach the server', timeoutMs: 30_000 },
      )
      const stored = (await bob.api.allMessages(chat.id)).map((m) => m.content)
      assert.deepEqual(stored, [...earlier, queued], 'sent once, after the others')
      await messageLog(a).getByRole('listitem').filter({ hasText: queued }).getByText(/Queued/).waitFor({ state: 'detached' })
      await savedCopyNote(a).waitFor({ state: 'detached' })
      await screenshot(a, '44-offline-back-live')

      // Signing out deletes alice's saved copies.
      await a.getByRole('button', { name: 'Sign out', exact: true }).click()
      await a.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
      await waitUntil(async () => Object.keys(await dataCaches(a)).length === 0, {
        what: 'alice’s saved copies to be deleted at sign-out',
      })
    }))
})
