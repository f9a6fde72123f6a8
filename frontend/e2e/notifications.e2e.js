// @ts-check
/* global document, window, MutationObserver */
// End-to-end scenarios of notifications against a real herald-server: a bot completes a task with
// curl and the owner's toast leads to the results; quiet hours silence a notification, which the
// center lists with the reason; a critical alert still breaks through and stays until dismissed;
// a file upload shows its progress and the processed file reaches the other member.
// Run with `node --test e2e/notifications.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { crc32, deflateSync } from 'node:zlib'
import {
  animationsDone,
  curlJson,
  launchBrowser,
  messageLog,
  nonce,
  notificationBell,
  openLive,
  recordToasts,
  screenshot,
  toastNamed,
  toastRegion,
  waitForConnection,
  waitForUnread,
  waitUntil,
  withScene,
} from './harness.js'

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('./harness.js').Api} Api */
/** @typedef {import('../src/api/types').Notification} Notification */
/** @typedef {import('../src/api/types').Preferences} Preferences */
/** @typedef {import('../src/api/types').Task} Task */
/** @typedef {import('../src/api/types').User} User */

/** Toasts may wait out the client's 2 s catch-up window after the stream goes live. */
const TOAST_TIMEOUT_MS = 10_000

/** @type {Browser} */
let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

/** @param {number} n */
function pad(n) {
  return String(n).padStart(2, '0')
}

/**
 * Quiet hours from an hour before to an hour after now on the UTC wall clock, as "HH:MM" (across
 * midnight when now is near it: 23:30 gives 22:30–00:30).
 * @param {Date} now
 * @returns {{ start: string, end: string, timeZone: string }}
 */
function quietHoursAround(now) {
  const minutes = now.getUTCHours() * 60 + now.getUTCMinutes()
  /** @param {number} m minutes after midnight, possibly out of 0..1439 */
  const clock = (m) => {
    const wrapped = ((m % 1440) + 1440) % 1440
    return `${pad(Math.floor(wrapped / 60))}:${pad(wrapped % 60)}`
  }
  return { start: clock(minutes - 60), end: clock(minutes + 60), timeZone: 'UTC' }
}

/**
 * Turns on quiet hours covering now for the user of api, with any other change (the rest of their
 * preferences kept).
 * @param {Api} api
 * @param {Partial<Preferences>} [also]
 * @returns {Promise<{ start: string, end: string, timeZone: string, reason: string, preferences: Preferences }>}
 */
async function quietHoursCoveringNow(api, also = {}) {
  const { preferences } = /** @type {{ preferences: Preferences }} */ (await api.request('GET', '/api/preferences'))
  const quietHours = quietHoursAround(new Date())
  const saved = /** @type {{ preferences: Preferences }} */ (
    await api.request('PUT', '/api/preferences', { ...preferences, ...also, quietHours })
  )
  assert.deepEqual(saved.preferences.quietHours, quietHours, 'the server stored the quiet hours')
  for (const [key, value] of Object.entries(also)) {
    assert.deepEqual(saved.preferences[/** @type {keyof Preferences} */ (key)], value, `the server stored ${key}`)
  }
  return {
    ...quietHours,
    reason: `quiet hours ${quietHours.start}–${quietHours.end} (UTC)`,
    preferences: saved.preferences,
  }
}

/**
 * Whether two boxes overlap (a toast and the composer).
 * @param {{ x: number, y: number, width: number, height: number }} a
 * @param {{ x: number, y: number, width: number, height: number }} b
 */
function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

/**
 * The user's notification history, newest first (the server's record with its decisions).
 * @param {Api} api
 */
async function history(api) {
  const res = /** @type {{ notifications: Notification[] }} */ (await api.request('GET', '/api/notifications?limit=50'))
  return res.notifications
}

/**
 * Checks, every 100 ms for ms, that holds() stays true; throws at the first time it is not.
 * @param {() => Promise<boolean>} holds
 * @param {number} ms
 * @param {string} what
 */
async function assertHoldsFor(holds, ms, what) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    assert.ok(await holds(), `${what} (after ${ms - (until - Date.now())} ms)`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.ok(await holds(), what)
}

/**
 * A PNG of width × height pixels of random RGB noise: it does not compress, so its size is about
 * 3 × width × height bytes, and the server still decodes it (dimensions, thumbnail).
 * @param {number} width
 * @param {number} height
 */
function noisePng(width, height) {
  const row = 1 + width * 3
  const raw = randomBytes(row * height)
  for (let y = 0; y < height; y++) raw[y * row] = 0 // filter type None
  /**
   * @param {string} type
   * @param {Buffer} data
   */
  const chunk = (type, data) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0)
    head.write(type, 4, 'ascii')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
    return Buffer.concat([head, data, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/**
 * Records every value a progress bar in the page takes (aria-valuenow), by a MutationObserver,
 * so a fast upload's steps are not missed between polls.
 * @param {Page} page
 * @returns {Promise<number[]>}
 */
async function recordProgress(page) {
  /** @type {number[]} */
  const values = []
  await page.exposeFunction('heraldE2eProgress', (/** @type {number} */ value) => {
    values.push(value)
  })
  await page.evaluate(() => {
    const report = /** @type {(value: number) => Promise<void>} */ (
      /** @type {unknown} */ (Reflect.get(window, 'heraldE2eProgress'))
    )
    let last = ''
    new MutationObserver(() => {
      const bar = document.querySelector('[role="progressbar"]')
      const now = bar?.getAttribute('aria-valuenow') ?? ''
      if (bar && now !== last) void report(Number(now))
      last = bar ? now : ''
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] })
  })
  return values
}

/** @param {string} text */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('notifications end to end', () => {
  test('the quiet hours the scenarios set cover now, across midnight too', () => {
    assert.deepEqual(quietHoursAround(new Date('2026-03-01T12:34:56Z')), { start: '11:34', end: '13:34', timeZone: 'UTC' })
    assert.deepEqual(quietHoursAround(new Date('2026-03-01T23:30:00Z')), { start: '22:30', end: '00:30', timeZone: 'UTC' })
    assert.deepEqual(quietHoursAround(new Date('2026-03-01T00:15:00Z')), { start: '23:15', end: '01:15', timeZone: 'UTC' })
  })

  test('a bot completes a task with curl; the owner\'s toast opens the results', { timeout: 60_000 }, (t) =>
    withTeam('task', async ({ server, team: { alice, bob }, signedIn }) => {
      const b = await signedIn('bob')
      await waitForConnection(b, 'Live')

      const { bot, token } = /** @type {{ bot: User, token: string }} */ (
        await alice.api.request('POST', '/api/bots', { name: 'build-bot' })
      )
      const n = nonce()
      const taskName = `Nightly build ${n}`
      const result = `All 412 tests passed; artifacts uploaded [${n}]`
      const startedAt = Date.now()
      const created = /** @type {{ task: Task }} */ (
        await curlJson(server, 'POST', '/api/tasks', { name: taskName, ownerId: bob.user.id }, token)
      )
      assert.equal(created.task.ownerId, bob.user.id)
      const completed = /** @type {{ task: Task }} */ (
        await curlJson(server, 'POST', `/api/tasks/${created.task.id}/complete`, { status: 'succeeded', result }, token)
      )
      assert.equal(completed.task.status, 'succeeded')

      // The toast, named and announced by the server's title, which says the kind once.
      // The title names the bot that created the task: another user's text is never unattributed.
      const title = `Task succeeded: ${taskName} (from ${bot.displayName})`
      const toast = toastNamed(b, title)
      await toast.waitFor({ timeout: TOAST_TIMEOUT_MS })
      await waitForUnread(b, 1)
      t.diagnostic(`task toast shown ${Date.now() - startedAt} ms after the first curl`)
      await b
        .getByRole('status')
        .filter({ hasText: new RegExp(`^${escapeRegExp(title)}\\. ${escapeRegExp(result)}$`) })
        .waitFor()
      assert.match((await toast.textContent()) ?? '', new RegExp(escapeRegExp(result)), 'the toast shows the result')
      await animationsDone(toast)
      await screenshot(b, '06-task-toast')

      await toast.getByRole('button', { name: 'View Results', exact: true }).click()
      await b.waitForURL(`**/tasks/${created.task.id}`)
      await toast.waitFor({ state: 'detached' })
      // Opened from the toast: read, as if opened from the center.
      await waitForUnread(b, 0)
      const [entry] = await history(bob.api)
      assert.equal(entry?.read, true, 'the server has the notification read')
      // The task page: a region named by its heading, the task's name.
      const page = b.getByRole('region', { name: taskName, exact: true })
      await page.getByRole('heading', { level: 1, name: taskName, exact: true }).waitFor()
      await page.getByRole('status').filter({ hasText: /^.?Succeeded$/ }).waitFor()
      await page.getByText(result, { exact: true }).waitFor()
      const terms = await page.getByRole('term').allTextContents()
      const definitions = await page.getByRole('definition').allTextContents()
      const facts = Object.fromEntries(terms.map((term, i) => [term, definitions[i]]))
      assert.equal(facts.Owner, 'bob', 'the page names the owner')
      assert.equal(facts['Created by'], bot.username, 'the page names the bot that created it, by name')
      await toastRegion(b).waitFor({ state: 'hidden' }) // the toast's exit animation
      await screenshot(b, '07-task-results')
    }))

  test('quiet hours covering now: no toast, and the center lists the entry as silenced with its reason', { timeout: 60_000 }, () =>
    withTeam('quiet-hours', async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Standup', [bob.user.id])
      const b = await signedIn('bob') // on the start page: no chat open, so messages do toast
      await waitForConnection(b, 'Live')
      const toasts = await recordToasts(b)
      const quiet = await quietHoursCoveringNow(bob.api)
      await waitForUnread(b, 0)

      const n = nonce()
      const silenced = `Standup moves to 10:30 tomorrow [${n} quiet]`
      await alice.api.postMessage(chat.id, silenced)
      // The badge counting it proves the event reached the page.
      await waitForUnread(b, 1)
      const [entry] = await history(bob.api)
      assert.equal(entry?.body, silenced)
      assert.equal(entry?.notify, false, 'the server decided: silent')
      assert.equal(entry?.reason, quiet.reason)

      await notificationBell(b).click()
      const panel = b.getByRole('dialog', { name: 'Notifications' })
      const item = panel
        .getByRole('list', { name: 'Notification history' })
        .getByRole('listitem')
        .filter({ hasText: silenced })
      await item.getByText(`Silenced: ${quiet.reason}`, { exact: true }).waitFor()
      await item.getByRole('button', { name: 'Unread: alice in #Standup', exact: true }).waitFor()
      await screenshot(b, '08-quiet-hours-silenced')
      await b.keyboard.press('Escape')
      await panel.waitFor({ state: 'detached' })
      assert.equal(toasts.length, 0, `no toast so far: ${toasts.map((toast) => toast.name).join(', ')}`)

      // No toast for it: toasts show in order, so once a later message's toast is on screen, a
      // toast for the silenced one would have come first. Quiet hours off, then that message.
      const { preferences } = /** @type {{ preferences: Preferences }} */ (await bob.api.request('GET', '/api/preferences'))
      await bob.api.request('PUT', '/api/preferences', { ...preferences, quietHours: null })
      const heard = `Room 4 is booked for it [${n} loud]`
      await alice.api.postMessage(chat.id, heard)
      await toastRegion(b).getByRole('listitem').filter({ hasText: heard }).waitFor({ timeout: TOAST_TIMEOUT_MS })
      assert.deepEqual(
        toasts.map((toast) => toast.name),
        ['alice in #Standup'],
        'one toast, for the message after quiet hours, alone (not grouped with the silenced one)',
      )
      assert.ok(!toasts.some((toast) => toast.text.includes(silenced)), 'no toast ever showed the silenced message')
      await waitForUnread(b, 2)
    }))

  test('a critical system alert still shows under quiet hours and stays until dismissed', { timeout: 60_000 }, (t) =>
    withTeam('critical', async ({ team: { alice, bob }, signedIn }) => {
      const b = await signedIn('bob')
      await waitForConnection(b, 'Live')
      // Ordinary toasts last 3 s for bob: the critical one must outlast that.
      const quiet = await quietHoursCoveringNow(bob.api, { toastSeconds: 3 })
      const toastMs = quiet.preferences.toastSeconds * 1000

      const title = `Database failover in progress ${nonce()}`
      const body = 'Writes may fail for a few minutes.'
      const sentAt = Date.now()
      await alice.api.request('POST', '/api/system/notifications', {
        title,
        body,
        level: 'critical',
        userIds: [bob.user.id],
      })
      const toast = toastNamed(b, `Critical alert: ${title}`)
      await toast.waitFor({ timeout: TOAST_TIMEOUT_MS })
      const shownAt = Date.now()
      t.diagnostic(`critical toast shown ${shownAt - sentAt} ms after the POST`)
      const alert = b.getByRole('alert').filter({ hasText: `Critical alert: ${title}. ${body}` })
      await alert.waitFor()
      const [entry] = await history(bob.api)
      assert.equal(entry?.title, title)
      assert.equal(entry?.notify, true)
      assert.equal(entry?.reason, `critical alert breaks through ${quiet.reason}`)
      await animationsDone(toast)
      await screenshot(b, '09-critical-alert')

      // Well past the time bob's ordinary toasts dismiss themselves, it is still there.
      await assertHoldsFor(
        async () => (await toast.count()) === 1,
        toastMs + 2_000 - (Date.now() - shownAt),
        'the critical toast stays on screen',
      )
      await toast.getByRole('button', { name: `Dismiss: ${title}`, exact: true }).click()
      await toast.waitFor({ state: 'detached' })
      await waitUntil(async () => (await b.getByRole('alert').filter({ hasText: title }).count()) === 0, {
        what: 'the alert region to be emptied',
        timeoutMs: 5_000,
      })
    }))

  test('a file upload shows progress, and the processed file appears for the other member', { timeout: 90_000 }, (t) =>
    withTeam('upload', async ({ team: { alice, bob }, signedIn }) => {
      const chat = await alice.api.createChat('Design review', [bob.user.id])
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)

      const png = noisePng(1400, 1000) // about 4.2 MB
      const name = `mockup-${nonce()}.png`
      // Alice's toasts stay a minute: time to look at where hers shows at several widths.
      const { preferences } = /** @type {{ preferences: Preferences }} */ (await alice.api.request('GET', '/api/preferences'))
      await alice.api.request('PUT', '/api/preferences', { ...preferences, toastSeconds: 60 })
      // At 2 MB/s the upload takes about two seconds: long enough to see the bar move.
      const cdp = await a.context().newCDPSession(a)
      await cdp.send('Network.enable')
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: 2 * 1024 * 1024,
      })
      const progress = await recordProgress(a)
      const toasts = await recordToasts(a)

      const startedAt = Date.now()
      const [chooser] = await Promise.all([
        a.waitForEvent('filechooser'),
        a.getByRole('button', { name: 'Attach file', exact: true }).click(),
      ])
      await chooser.setFiles({ name, mimeType: 'image/png', buffer: png })
      const bar = a.getByRole('progressbar', { name: `Uploading ${name}`, exact: true })
      await bar.waitFor({ timeout: 5_000 })
      await waitUntil(() => progress.some((v) => v > 0 && v < 100), { what: 'the bar to move', timeoutMs: 10_000 })
      await screenshot(a, '10-upload-progress')

      // Processed: the bar is gone and the message with the thumbnail is in alice's list.
      const mine = messageLog(a).getByRole('img', { name, exact: true })
      await mine.waitFor({ timeout: 20_000 })
      const processedAt = Date.now()
      await bar.waitFor({ state: 'detached' })
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      })
      t.diagnostic(
        `upload of ${png.length} bytes: processed file shown ${processedAt - startedAt} ms after choosing it; ` +
          `progress seen: ${progress.join(', ')}`,
      )
      const steps = progress.filter((v) => v > 0 && v < 100)
      assert.ok(steps.length >= 2, `the bar moved in steps: ${progress.join(', ')}`)
      assert.deepEqual([...progress].sort((x, y) => x - y), progress, 'progress never goes back')

      // Bob, in his own browser, sees it arrive live: the thumbnail loaded and a download link.
      const theirs = messageLog(b).getByRole('img', { name, exact: true })
      await theirs.waitFor({ timeout: 10_000 })
      await waitUntil(() => theirs.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth > 0), {
        what: "bob's thumbnail to load",
        timeoutMs: 10_000,
      })
      const thumbWidth = await theirs.evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth)
      assert.ok(thumbWidth > 0 && thumbWidth <= 320, `a thumbnail of at most 320 px, not the image: ${thumbWidth}`)
      const link = messageLog(b).getByRole('link', { name, exact: true })
      const href = await link.getAttribute('href')
      assert.ok(href, 'the file name links to the file')
      const download = await b.request.get(href)
      assert.equal(download.status(), 200)
      assert.ok((await download.body()).equals(png), 'bob downloads the bytes alice uploaded')
      await screenshot(b, '12-upload-received')

      // The uploader is told it is ready, and the server holds one message with the file.
      const ready = toastNamed(a, `File: ${name} is ready`)
      await ready.waitFor({ timeout: TOAST_TIMEOUT_MS })
      await animationsDone(ready)
      await screenshot(a, '11-upload-processed')
      // The toast leaves the composer and its Send button free, at narrow widths too.
      const form = a.getByRole('button', { name: 'Send', exact: true }).locator('xpath=ancestor::form[1]')
      for (const width of [1280, 700, 390]) {
        await a.setViewportSize({ width, height: width < 600 ? 740 : 800 })
        const toastBox = await ready.boundingBox()
        const formBox = await form.boundingBox()
        assert.ok(toastBox && formBox, `the toast and the composer are on screen at ${width} px`)
        assert.ok(!overlaps(toastBox, formBox), `at ${width} px the toast ${JSON.stringify(toastBox)} clears the composer ${JSON.stringify(formBox)}`)
        if (width === 390) await screenshot(a, '11b-upload-processed-narrow')
      }
      await a.setViewportSize({ width: 1280, height: 800 })
      assert.equal(toasts.filter((toast) => toast.name === `File: ${name} is ready`).length, 1)
      const messages = await bob.api.allMessages(chat.id)
      const attached = messages.filter((m) => m.attachment?.name === name)
      assert.equal(attached.length, 1, 'one message carries the file')
      const file = attached[0]?.attachment
      assert.equal(file?.status, 'ready')
      assert.equal(file?.mime, 'image/png')
      assert.equal(file?.size, png.length)
      assert.deepEqual([file?.width, file?.height], [1400, 1000])
    }))
})

/**
 * A scene with alice (the admin) and bob.
 * @param {string} label
 * @param {(scene: import('./harness.js').Scene<'alice' | 'bob'>) => Promise<void>} body
 */
function withTeam(label, body) {
  return withScene(browser, `notify-${label}`, ['alice', 'bob'], body)
}
