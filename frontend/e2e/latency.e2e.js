// @ts-check
/* global document, window, MutationObserver, Element, HTMLTextAreaElement, IDBObjectStore */
// The send path, timed in two browsers (issue 13): Enter in alice's composer → the POST to
// /api/chats/{id}/messages starting in her page → the SSE frame arriving in bob's page → the text
// in bob's message list. Clocks: both pages run in one Chromium process, so
// performance.timeOrigin + performance.now() is comparable across them. The figures are recorded,
// printed and written to test-artifacts/e2e/send-latency.json; the test asserts only facts that
// cannot be flaky on a loaded machine: every POST started before the outbox write committed, and
// every message arrived exactly once, in both browsers.

import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ARTIFACTS_DIR, inLog, launchBrowser, nonce, openLive, screenshot, signIn, waitUntil, withScene } from './harness.js'

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').Page} Page */

const MESSAGES = 40

/** @type {Browser} */
let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

/**
 * Nearest-rank percentile.
 * @param {number[]} values
 * @param {number} p in (0, 100]
 */
function percentile(values, p) {
  const sorted = [...values].sort((x, y) => x - y)
  const value = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]
  if (value === undefined) throw new Error('percentile of no values')
  return Math.round(value * 10) / 10
}

/** @param {number[]} values */
function summary(values) {
  return { p50Ms: percentile(values, 50), p95Ms: percentile(values, 95), maxMs: percentile(values, 100) }
}

/**
 * Installs the in-page recorders before the app's own scripts run. Every time is
 * performance.timeOrigin + performance.now() (ms), kept in window.heraldLatency keyed by the
 * token (a match of tokenSource) in the text:
 * - enter: Enter keydown in a textarea (capture phase, before the app's handler);
 * - post: window.fetch called with POST …/messages, body holding the token;
 * - idbCommit: the outbox's IndexedDB transaction that put the token's message committed;
 * - sse: an EventSource message event whose data holds the token (EventSource is wrapped so
 *   that the recorder's listener comes before the app's);
 * - dom: the text appearing inside [role="log"] (MutationObserver), and how often it appeared.
 * @param {Page} page
 * @param {string} tokenSource
 */
async function installRecorders(page, tokenSource) {
  await page.addInitScript((source) => {
    const clock = () => performance.timeOrigin + performance.now()
    /** @type {Record<string, Record<string, number>>} */
    const marks = {}
    /** @type {Record<string, number>} */
    const domCount = {}
    Reflect.set(window, 'heraldLatency', { marks, domCount })
    const pattern = new RegExp(source)
    const patternAll = new RegExp(source, 'g')
    /** @param {string} token @param {string} name @param {number} at */
    const mark = (token, name, at) => {
      const entry = (marks[token] ??= {})
      entry[name] ??= at
    }
    document.addEventListener(
      'keydown',
      (event) => {
        if (event.key !== 'Enter' || event.shiftKey || !(event.target instanceof HTMLTextAreaElement)) return
        const token = pattern.exec(event.target.value)?.[0]
        if (!token) return
        mark(token, 'enter', clock())
      },
      true,
    )
    const realFetch = window.fetch.bind(window)
    window.fetch = (input, init) => {
      const at = clock()
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      if (init?.method === 'POST' && /\/api\/chats\/[^/]+\/messages$/.test(url) && typeof init.body === 'string') {
        const token = pattern.exec(init.body)?.[0]
        if (token) mark(token, 'post', at)
      }
      return realFetch(input, init)
    }
    const realPut = IDBObjectStore.prototype.put
    /** @type {(this: IDBObjectStore, value: unknown, key?: IDBValidKey) => IDBRequest<IDBValidKey>} */
    const put = function (value, key) {
      const request = realPut.call(this, value, key)
      const content = typeof value === 'object' && value !== null ? Reflect.get(value, 'content') : undefined
      const token = this.name === 'outbox' && typeof content === 'string' ? pattern.exec(content)?.[0] : undefined
      if (token) this.transaction.addEventListener('complete', () => mark(token, 'idbCommit', clock()))
      return request
    }
    IDBObjectStore.prototype.put = put
    const RealEventSource = window.EventSource
    class RecordingEventSource extends RealEventSource {
      /** @param {string | URL} url @param {EventSourceInit} [init] */
      constructor(url, init) {
        super(url, init)
        /** @param {Event} event */
        const record = (event) => {
          const at = clock()
          const data = event instanceof MessageEvent ? String(event.data) : ''
          for (const m of data.matchAll(patternAll)) mark(m[0], 'sse', at)
        }
        // Before the app's onmessage handler, which takes its place when first set.
        super.addEventListener('message', record)
        const types = new Set(['message'])
        // Named events are listened to per type: record each type the app listens to, first.
        const add = this.addEventListener.bind(this)
        this.addEventListener = (/** @type {string} */ type, /** @type {any} */ listener, /** @type {any} */ opts) => {
          if (!types.has(type)) {
            types.add(type)
            add(type, record)
          }
          add(type, listener, opts)
        }
      }
    }
    window.EventSource = RecordingEventSource
    new MutationObserver((records) => {
      const at = clock()
      for (const record of records) {
        const nodes = record.type === 'characterData' ? [record.target] : [...record.addedNodes]
        for (const node of nodes) {
          const element = node instanceof Element ? node : node.parentElement
          if (!element?.closest('[role="log"]')) continue
          for (const m of (node.textContent ?? '').matchAll(patternAll)) {
            mark(m[0], 'dom', at)
            domCount[m[0]] = (domCount[m[0]] ?? 0) + 1
          }
        }
      }
    }).observe(document, { subtree: true, childList: true, characterData: true })
  }, tokenSource)
}

/**
 * @param {Page} page
 * @returns {Promise<{ marks: Record<string, Record<string, number>>, domCount: Record<string, number> }>}
 */
function readMarks(page) {
  return page.evaluate(() => Reflect.get(window, 'heraldLatency'))
}

describe('send latency', () => {
  test(`Enter → POST → other browser's DOM, ${MESSAGES} messages`, { timeout: 120_000 }, () =>
    withScene(browser, 'send-latency', ['alice', 'bob'], async ({ team: { alice, bob }, newContext }) => {
      const chat = await alice.api.createChat('Latency', [bob.user.id])
      const n = nonce()
      const tokenSource = `\\[send ${n} \\d{3}\\]`
      /** @type {Record<string, Page>} */
      const pages = {}
      for (const [name, member] of /** @type {const} */ ([['alice', alice], ['bob', bob]])) {
        const context = await newContext()
        const page = await context.newPage()
        await installRecorders(page, tokenSource)
        await signIn(page, member)
        pages[name] = page
      }
      const a = /** @type {Page} */ (pages.alice)
      const b = /** @type {Page} */ (pages.bob)
      await openLive(chat.name, a, b)

      const box = a.getByRole('textbox', { name: 'Message', exact: true })
      const tokens = []
      for (let i = 0; i < MESSAGES; i++) {
        const token = `[send ${n} ${String(i).padStart(3, '0')}]`
        tokens.push(token)
        await box.fill(`Latency probe ${token}`)
        await box.press('Enter')
        await waitUntil(
          async () => (await readMarks(b)).marks[token]?.dom !== undefined,
          { what: `${token} in bob's message list`, timeoutMs: 10_000, intervalMs: 5 },
        )
      }
      // Alice's own page settles every message too (the echo or the answer).
      await inLog(a, tokens.at(-1) ?? '').waitFor()
      await waitUntil(async () => (await a.evaluate(() => document.body.innerText.includes('Sending'))) === false, {
        what: "alice's messages to be confirmed",
      })
      const sender = await readMarks(a)
      const receiver = await readMarks(b)
      /** @param {string} t @param {string} name */
      const at = (t, name, /** @type {Record<string, Record<string, number>>} */ marks) => {
        const value = marks[t]?.[name]
        if (value === undefined) throw new Error(`${t}: no ${name} mark`)
        return value
      }
      const enterToPost = tokens.map((t) => at(t, 'post', sender.marks) - at(t, 'enter', sender.marks))
      const enterToDom = tokens.map((t) => at(t, 'dom', receiver.marks) - at(t, 'enter', sender.marks))
      const sseToDom = tokens.map((t) => at(t, 'dom', receiver.marks) - at(t, 'sse', receiver.marks))
      const postToSse = tokens.map((t) => at(t, 'sse', receiver.marks) - at(t, 'post', sender.marks))
      const enterToIdbCommit = tokens.map((t) => at(t, 'idbCommit', sender.marks) - at(t, 'enter', sender.marks))
      const figures = {
        measuredAt: new Date().toISOString(),
        chromium: browser.version(),
        messages: MESSAGES,
        enterToPost: summary(enterToPost),
        enterToOutboxCommit: summary(enterToIdbCommit),
        postToReceiverSse: summary(postToSse),
        receiverSseToDom: summary(sseToDom),
        enterToReceiverDom: summary(enterToDom),
      }
      mkdirSync(ARTIFACTS_DIR, { recursive: true })
      const file = path.join(ARTIFACTS_DIR, 'send-latency.json')
      writeFileSync(file, JSON.stringify(figures, null, 2) + '\n')
      console.log(`send latency (${file}):\n${JSON.stringify(figures, null, 2)}`)
      await screenshot(a, '120-send-latency-sender')
      await screenshot(b, '121-send-latency-receiver')

      // Ordering facts, not timings: the POST does not wait for the outbox write…
      for (const t of tokens) {
        assert.ok(at(t, 'post', sender.marks) <= at(t, 'idbCommit', sender.marks), `${t}: POST started after the outbox write committed`)
      }
      // …and each message shows once in each browser.
      for (const t of tokens) {
        assert.equal(receiver.domCount[t], 1, `${t} in bob's list`)
        assert.equal(await inLog(a, `Latency probe ${t}`).count(), 1, `${t} in alice's list`)
        assert.equal(await inLog(b, `Latency probe ${t}`).count(), 1, `${t} in bob's list`)
      }
    }, { serverArgs: ['--message-rate', '0'] }))
})
