// @ts-check
// End to end: the sender sees the recipient's quiet hours. Bob is in quiet hours and lets DMs
// break through; Alice, on a 390 px wide phone, opens their DM and the composer says so, with a
// "Notify anyway" switch (axe-scanned in light and dark). She sends one message with it on: Bob's
// toast and notification center show that it notified him and why; her message before it stayed
// silent.
// Run with `node --test e2e/quiet.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  axeScan,
  composer,
  launchBrowser,
  nonce,
  notificationBell,
  screenshot,
  signIn,
  waitForConnection,
  waitForUnread,
  waitUntil,
  withScene,
} from './harness.js'

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('../src/api/types').Chat} Chat */
/** @typedef {import('../src/api/types').Notification} Notification */
/** @typedef {import('../src/api/types').Preferences} Preferences */

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

/** Quiet hours in UTC from an hour ago to two hours ahead (across midnight when it is near). */
function quietHoursCoveringNow() {
  const now = new Date()
  const minutes = now.getUTCHours() * 60 + now.getUTCMinutes()
  /** @param {number} m */
  const clock = (m) => {
    const wrapped = ((m % 1440) + 1440) % 1440
    return `${pad(Math.floor(wrapped / 60))}:${pad(wrapped % 60)}`
  }
  return { start: clock(minutes - 60), end: clock(minutes + 120), timeZone: 'UTC' }
}

describe('quiet hours in the composer', () => {
  test('the composer says Bob is in quiet hours; Notify anyway reaches him, and his center says why', { timeout: 90_000 }, () =>
    withScene(browser, 'quiet-composer', ['alice', 'bob'], async ({ team: { alice, bob }, newContext }) => {
      const { preferences } = /** @type {{ preferences: Preferences }} */ (await bob.api.request('GET', '/api/preferences'))
      const quietHours = quietHoursCoveringNow()
      await bob.api.request('PUT', '/api/preferences', { ...preferences, quietHours, breakThrough: 'dms' })
      const { chat: dm } = /** @type {{ chat: Chat }} */ (
        await alice.api.request('POST', '/api/dms', { userIds: [bob.user.id] })
      )

      const b = await (await newContext()).newPage()
      await signIn(b, bob)
      await waitForConnection(b, 'Live')

      const a = await (await newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage()
      await signIn(a, alice)
      await a.goto(`/chats/${dm.id}`)
      await composer(a).waitFor()
      const notice = a.getByText(`bob is in quiet hours until ${quietHours.end} their time — they will see it then.`)
      await notice.waitFor()
      const toggle = a.getByRole('switch', { name: 'Notify anyway' })
      assert.equal(await toggle.isChecked(), false, 'off until chosen')
      assert.match((await toggle.getAttribute('aria-describedby')) ?? '', /.+/, 'the switch is described by the notice')

      for (const scheme of /** @type {const} */ (['light', 'dark'])) {
        await a.emulateMedia({ colorScheme: scheme })
        await screenshot(a, `quiet-composer-${scheme}`)
        assert.deepEqual(await axeScan(a, `quiet-composer-${scheme}`), [], `no serious or critical axe findings (${scheme})`)
      }
      await a.emulateMedia({ colorScheme: 'light' })

      const n = nonce()
      const silent = `See this in the morning [${n} silent]`
      const urgent = `The release is blocked on your review [${n} anyway]`
      await composer(a).fill(silent)
      await composer(a).press('Enter')
      await waitForUnread(b, 1)
      // Keyboard: the switch takes focus and Space turns it on.
      await toggle.focus()
      await a.keyboard.press('Space')
      assert.equal(await toggle.isChecked(), true)
      await composer(a).fill(urgent)
      await composer(a).press('Enter')
      await waitUntil(async () => !(await toggle.isChecked()), { what: 'the switch to turn off after sending' })
      // Bob's toast says why it reached him in his quiet hours.
      const toast = b.getByRole('region', { name: 'Toasts' }).getByRole('listitem').filter({ hasText: urgent })
      await toast.locator('.toast-note').filter({ hasText: 'alice chose to notify you during your quiet hours' }).waitFor()
      await toast.hover() // holds it on screen for the screenshot
      await screenshot(b, 'quiet-toast')
      await waitForUnread(b, 2)

      const { notifications } = /** @type {{ notifications: Notification[] }} */ (
        await bob.api.request('GET', '/api/notifications?limit=10')
      )
      const [loud, quiet] = notifications
      assert.equal(quiet?.body, silent)
      assert.equal(quiet?.notify, false, 'without notify anyway: silenced')
      assert.equal(loud?.body, urgent)
      assert.equal(loud?.notify, true, 'with notify anyway: notified')
      assert.equal(loud?.brokeThrough, true)
      assert.equal(loud?.reason, 'alice chose to notify you during your quiet hours')

      await notificationBell(b).click()
      const panel = b.getByRole('dialog', { name: 'Notifications' })
      const item = panel.getByRole('list', { name: 'Notification history' }).getByRole('listitem').filter({ hasText: urgent })
      await item.getByText('alice chose to notify you during your quiet hours', { exact: true }).waitFor()
      for (const scheme of /** @type {const} */ (['light', 'dark'])) {
        await b.emulateMedia({ colorScheme: scheme })
        await screenshot(b, `quiet-center-${scheme}`)
        assert.deepEqual(await axeScan(b, `quiet-center-${scheme}`), [], `no serious or critical axe findings (${scheme})`)
      }
    }))
})
