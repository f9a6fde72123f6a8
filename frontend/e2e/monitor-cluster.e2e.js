// @ts-check
/* global document, window */
// End-to-end scenario of the Monitor's Cluster panel (issue 14) in Chromium. herald-server has
// no cluster flags yet, so the server is a single one and the browser's answer to GET
// /api/admin/monitor gains a `cluster` (the shape of backend.ClusterStatus, which the Go cluster
// tests check against three real nodes): this scenario checks what the page makes of it — the
// table of nodes, the writer, the lag — and that a single server's Overview has no panel. axe
// scans and screenshots, light and dark, and 390 px.
// Run with `node --test e2e/monitor-cluster.e2e.js` from frontend/ (see README.md).

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
 * @param {Page} page
 * @param {string} name
 */
async function assertAccessible(page, name) {
  await animationsDone(page.locator('body'))
  const violations = await axeScan(page, name)
  assert.deepEqual(violations, [], `axe: serious or critical violations in ${name}`)
}

/** A replica's view of a cluster of three in which it is 3 entries behind. */
function clusterOf(now = Date.now()) {
  const node = (/** @type {string} */ name, /** @type {string} */ role, /** @type {number} */ appliedSeq, /** @type {number} */ ago) => ({
    name,
    advertise: `https://${name}.chat.example:8443`,
    role,
    appliedSeq,
    lag: 1204 - appliedSeq,
    lastSeenAt: now - ago,
  })
  return {
    node: 'herald-2',
    role: 'replica',
    writer: 'herald-1',
    logSeq: 1204,
    appliedSeq: 1201,
    lag: 3,
    nodes: [node('herald-1', 'writer', 1204, 800), node('herald-2', 'replica', 1201, 0), node('herald-3', 'replica', 1204, 3000)],
  }
}

describe('monitor cluster', () => {
  test('the Cluster panel: nodes, writer, sequences and lag; none on a single server', { timeout: 120_000 }, async () => {
    await withScene(browser, 'monitor-cluster', ['alice'], async ({ signedIn }) => {
      const alice = await signedIn('alice')
      await waitForConnection(alice, 'Live')
      await alice.goto('/admin/monitor')
      await alice.getByRole('region', { name: 'SSE vs polling' }).waitFor()
      assert.equal(await alice.getByRole('region', { name: 'Cluster', exact: true }).count(), 0, 'a single server has no Cluster panel')

      await alice.route(/\/api\/admin\/monitor\?/, async (route) => {
        const response = await route.fetch()
        const page = await response.json()
        await route.fulfill({ response, json: { ...page, cluster: clusterOf() } })
      })
      await alice.reload()
      const panel = alice.getByRole('region', { name: 'Cluster', exact: true })
      await panel.waitFor()
      const table = panel.getByRole('table', { name: /Cluster nodes/ })
      assert.deepEqual(await table.getByRole('columnheader').allTextContents(), ['Node', 'Role', 'Applied', 'Lag', 'Last seen'])
      assert.deepEqual(await table.getByRole('rowheader').allTextContents(), ['herald-1', 'herald-2 (this node)', 'herald-3'])
      const writerRow = table.getByRole('row').filter({ has: alice.getByRole('rowheader', { name: 'herald-1' }) })
      assert.deepEqual(await writerRow.getByRole('cell').allTextContents(), ['Writer', '1,204', 'up to date', 'just now'])
      const selfRow = table.getByRole('row').filter({ has: alice.getByRole('rowheader', { name: /herald-2/ }) })
      assert.deepEqual(await selfRow.getByRole('cell').allTextContents(), ['Replica', '1,201', '3 behind', 'just now'])
      const term = (/** @type {string} */ label) => panel.getByRole('term').filter({ hasText: label }).locator('xpath=following-sibling::dd[1]')
      assert.equal(await term('Writer').textContent(), 'herald-1')
      assert.equal(await term('Applied here').textContent(), '1,201 (3 behind)')

      await panel.scrollIntoViewIfNeeded()
      await screenshot(alice, '130-monitor-cluster-light')
      await assertAccessible(alice, 'monitor-cluster-light')
      await alice.emulateMedia({ colorScheme: 'dark' })
      await screenshot(alice, '131-monitor-cluster-dark')
      await assertAccessible(alice, 'monitor-cluster-dark')
      await alice.emulateMedia({ colorScheme: 'light' })

      await alice.setViewportSize({ width: 390, height: 844 })
      await panel.scrollIntoViewIfNeeded()
      await screenshot(alice, '132-monitor-cluster-narrow')
      const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `the Overview with the Cluster panel fits 390 px (${overflow} px too wide)`)
      const box = await panel.boundingBox()
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the panel is inside the screen (${JSON.stringify(box)})`)
      await assertAccessible(alice, 'monitor-cluster-narrow')
    })
  })
})
