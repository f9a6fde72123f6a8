// @ts-check
/* global document, window */
// End-to-end scenario of the admin's Monitor dashboard (issue 12) against a real herald-server:
// alice (admin) opens it while bob (member) is signed in elsewhere; bob's stream is listed under
// Connections; messages posted over REST move the Overview's numbers live (MONITOR_TICK, no
// reload); a bad request shows under Errors; once a minute has been stored Trends draws its
// charts, and both CSV downloads answer text/csv; bob opening the dashboard's URL is told it is
// for admins. axe scans and screenshots of every tab, light and dark, and the Overview at 390 px.
// Run with `node --test e2e/monitor.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { animationsDone, axeScan, launchBrowser, screenshot, waitForConnection, withScene } from './harness.js'

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
 * Axe finds no serious or critical violation, judged once animations rest.
 * @param {Page} page
 * @param {string} name
 */
async function assertAccessible(page, name) {
  await animationsDone(page.locator('body'))
  const violations = await axeScan(page, name)
  assert.deepEqual(violations, [], `axe: serious or critical violations in ${name}`)
}

/**
 * The Overview's figure under the term label.
 * @param {Page} page
 * @param {string} label
 */
function stat(page, label) {
  return page.getByRole('term').filter({ hasText: label }).locator('xpath=following-sibling::dd[1]').locator('.monitor-value')
}

/**
 * Screenshots and scans one tab in light and dark.
 * @param {Page} page
 * @param {string} name
 * @param {number} n the first screenshot's number
 */
async function captureBoth(page, name, n) {
  await screenshot(page, `${n}-monitor-${name}-light`)
  await assertAccessible(page, `monitor-${name}-light`)
  await page.emulateMedia({ colorScheme: 'dark' })
  await screenshot(page, `${n + 1}-monitor-${name}-dark`)
  await assertAccessible(page, `monitor-${name}-dark`)
  await page.emulateMedia({ colorScheme: 'light' })
}

/**
 * Fetches a same-origin URL in the page (its cookie) and returns the status and content type.
 * @param {Page} page
 * @param {string} href
 */
function fetchInPage(page, href) {
  return page.evaluate(async (url) => {
    const res = await fetch(url)
    return { status: res.status, type: res.headers.get('Content-Type') ?? '', body: await res.text() }
  }, href)
}

describe('monitor', () => {
  test('the dashboard: live Overview, Connections, Errors, Trends and the admins-only page', { timeout: 240_000 }, async () => {
    await withScene(browser, 'monitor', ['alice', 'bob'], async ({ team, signedIn }) => {
      const general = await team.alice.api.createChat('general', [team.bob.user.id])
      const alice = await signedIn('alice')
      const bob = await signedIn('bob')
      await waitForConnection(alice, 'Live')
      await waitForConnection(bob, 'Live')

      // Opened from the admin page's navigation; the Overview follows MONITOR_TICK.
      await alice.getByRole('link', { name: 'Admin', exact: true }).click()
      await alice.getByRole('link', { name: 'Monitor', exact: true }).click()
      const tabs = alice.getByRole('tablist', { name: 'Monitor views' })
      await tabs.getByRole('tab', { name: 'Overview', selected: true }).waitFor()
      // The monitor's own state (the header's connection status says Live too).
      await alice.locator('p.monitor-live', { hasText: /^Live$/ }).waitFor()
      const events = stat(alice, 'Events delivered')
      await events.waitFor()
      const before = await events.textContent()
      for (let i = 0; i < 5; i++) await team.bob.api.postMessage(general.id, `monitor ${i}`)
      await alice.waitForFunction(
        ([old]) => {
          const term = [...document.querySelectorAll('dt')].find((dt) => dt.textContent === 'Events delivered')
          const now = term?.nextElementSibling?.querySelector('.monitor-value')?.textContent
          return now !== undefined && now !== old
        },
        [before],
      )
      assert.notEqual(await events.textContent(), before, 'Events delivered moved without a reload')
      const polling = alice.getByRole('region', { name: 'SSE vs polling' })
      await polling.getByText(/× fewer requests/).waitFor()
      await captureBoth(alice, 'overview', 110)

      // Connections lists bob's stream; its CSV is text/csv.
      await tabs.getByRole('tab', { name: 'Overview' }).focus()
      await alice.keyboard.press('ArrowRight')
      await tabs.getByRole('tab', { name: 'Connections', selected: true }).waitFor()
      const table = alice.getByRole('table', { name: 'Live streams' })
      await table.getByRole('rowheader', { name: 'bob' }).first().waitFor()
      await alice.getByRole('searchbox', { name: 'Filter streams' }).fill('bob')
      assert.equal(await table.getByRole('rowheader', { name: 'alice' }).count(), 0, 'the filter hides alice')
      await alice.getByRole('searchbox', { name: 'Filter streams' }).fill('')
      await table.getByRole('button', { name: 'User' }).click()
      assert.equal(await table.getByRole('columnheader', { name: /User/ }).getAttribute('aria-sort'), 'ascending')
      const streamsCsv = await alice.getByRole('link', { name: 'Download CSV' }).getAttribute('href')
      assert.ok(streamsCsv)
      const csv = await fetchInPage(alice, streamsCsv)
      assert.equal(csv.status, 200)
      assert.match(csv.type, /^text\/csv/)
      assert.match(csv.body, /bob/)
      await captureBoth(alice, 'connections', 112)

      // A bad request shows under Errors (its count moves in the next tick).
      await tabs.getByRole('tab', { name: 'Errors' }).click()
      const missing = await alice.evaluate(async () => (await fetch('/api/chats/no-such-chat')).status)
      assert.ok(missing >= 400, `the bad request was refused (${missing})`)
      await alice.getByRole('region', { name: 'Recent errors table' }).getByText('/api/chats/no-such-chat').first().waitFor()
      await alice.getByRole('list', { name: 'Errors by category' }).waitFor()
      await captureBoth(alice, 'errors', 116)

      // The member sees the admins-only page.
      await bob.goto('/admin/monitor')
      await bob.getByRole('alert').filter({ hasText: 'Only admins can open this page.' }).waitFor()
      assert.equal(await bob.getByRole('tablist', { name: 'Monitor views' }).count(), 0)

      // Trends: charts once the first minute is stored (the dashboard refetches after a minute
      // ends); the history CSV is text/csv.
      await tabs.getByRole('tab', { name: 'Trends' }).click()
      await alice.getByRole('radio', { name: '1 hour' }).check()
      const streamsChart = alice.getByRole('figure', { name: 'Streams', exact: true })
      await streamsChart.locator('canvas').first().waitFor({ timeout: 90_000 })
      assert.equal(await alice.getByRole('figure').locator('canvas').count() >= 5, true, 'five charts are drawn')
      const drawn = await streamsChart.locator('canvas').first().evaluate((el) => {
        const canvas = /** @type {HTMLCanvasElement} */ (el)
        const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? []
        let painted = 0
        for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++
        return painted
      })
      assert.ok(drawn > 0, 'the Streams chart has pixels')
      const historyCsv = await alice.getByRole('link', { name: 'Download CSV' }).getAttribute('href')
      assert.equal(historyCsv, '/api/admin/monitor/history.csv?range=1h')
      const history = await fetchInPage(alice, historyCsv)
      assert.equal(history.status, 200)
      assert.match(history.type, /^text\/csv/)
      assert.match(history.body, /^minute,streams,/)
      await captureBoth(alice, 'trends', 114)

      // The Overview at 390 px: nothing wider than the screen.
      await tabs.getByRole('tab', { name: 'Overview' }).click()
      await alice.setViewportSize({ width: 390, height: 844 })
      await stat(alice, 'Live streams').waitFor()
      await alice.getByRole('figure', { name: 'Requests per minute: streams vs polling' }).locator('canvas').first().waitFor()
      await screenshot(alice, '118-monitor-overview-narrow')
      const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `the Overview fits 390 px (${overflow} px too wide)`)
      await assertAccessible(alice, 'monitor-overview-narrow')
    })
  })
})
