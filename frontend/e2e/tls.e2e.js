// @ts-check
/* global document, getComputedStyle */
// End-to-end scenario of a server with a self-signed certificate (`--tls-self-signed`): the
// fingerprint the server prints is the one its API reports and the one it really serves; the
// admin's invite dialog shows it and the invite link carries it (#sha256=…); the invited person's
// browser, not signed in, opens the link, the join page shows the same fingerprint to compare —
// light, dark and at 390 px — and joining through the form lands in the app. Every page answer
// over TLS carries HSTS. The browsers take the certificate with ignoreHTTPSErrors (this scenario
// only); the REST helpers trust the server's certificate file and verify it.
// Run with `node --test e2e/tls.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import tls from 'node:tls'
import { after, before, describe, test } from 'node:test'
import {
  animationsDone,
  launchBrowser,
  screenshot,
  serverRequest,
  signIn,
  waitForConnection,
  withScene,
} from './harness.js'

/** @typedef {import('playwright-core').Browser} Browser */
/** @typedef {import('playwright-core').Locator} Locator */
/** @typedef {import('playwright-core').Page} Page */

/** Herald's form of a SHA-256 fingerprint: 32 lowercase hex bytes separated by colons. */
const FINGERPRINT = /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/
const HSTS = 'max-age=31536000'

/** @type {Browser} */
let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

/**
 * The SHA-256 fingerprint of the certificate a TLS handshake with 127.0.0.1:port presents, in
 * Herald's form. ca is what the connection trusts: the handshake fails unless the certificate
 * is that one (and names 127.0.0.1).
 * @param {number} port
 * @param {string | undefined} ca
 * @returns {Promise<string>}
 */
function servedFingerprint(port, ca) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['http/1.1'] }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256
      socket.end()
      resolve(fingerprint.toLowerCase())
    })
    socket.once('error', reject)
  })
}

/**
 * How far the element's content reaches past the right edge of the page (0 when it fits).
 * @param {Locator} locator
 */
async function overflowRight(locator) {
  return locator.evaluate((el) => {
    const right = Math.max(el.getBoundingClientRect().right, el.scrollWidth + el.getBoundingClientRect().left)
    return Math.max(0, right - document.documentElement.clientWidth, document.documentElement.scrollWidth - document.documentElement.clientWidth)
  })
}

/**
 * The byte pairs of a shown fingerprint that a line break splits ("f8:9" / "b:1a"): each pair's
 * characters must sit on one line, so that the fingerprint can be compared pair by pair.
 * @param {Locator} fingerprint the element showing it
 * @returns {Promise<string[]>}
 */
async function splitPairs(fingerprint) {
  return fingerprint.evaluate((el) => {
    /** @type {string[]} */
    const split = []
    const walker = document.createTreeWalker(el, 4 /* NodeFilter.SHOW_TEXT */)
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of (node.textContent ?? '').matchAll(/[0-9a-f]{2}/g)) {
        const range = document.createRange()
        range.setStart(node, m.index)
        range.setEnd(node, m.index + 2)
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)))
        if (tops.size > 1) split.push(m[0])
      }
    }
    return split
  })
}

/**
 * The WCAG contrast ratio between the element's text colour and the background behind it (the
 * first opaque background of it or an ancestor).
 * @param {Locator} locator
 */
async function textContrast(locator) {
  return locator.evaluate((el) => {
    /** @param {string} css @returns {number[]} */
    const rgba = (css) => (css.match(/[\d.]+/g) ?? []).map(Number)
    /** @param {number[]} rgb */
    const luminance = (rgb) => {
      const [r = 0, g = 0, b = 0] = rgb.map((v) => {
        const c = v / 255
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
      })
      return 0.2126 * r + 0.7152 * g + 0.0722 * b
    }
    const fg = rgba(getComputedStyle(el).color)
    /** @type {Element | null} */
    let node = el
    let bg = [255, 255, 255, 1]
    while (node) {
      const c = rgba(getComputedStyle(node).backgroundColor)
      if (c.length >= 3 && (c[3] ?? 1) > 0.99) {
        bg = c
        break
      }
      node = node.parentElement
    }
    const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a)
    return ((l1 ?? 0) + 0.05) / ((l2 ?? 0) + 0.05)
  })
}

describe('a server with a self-signed certificate', () => {
  test(
    'the fingerprint goes from the server through the invite dialog and link to the join page, and joining works',
    { timeout: 90_000 },
    () =>
      withScene(
        browser,
        'tls',
        ['alice', 'bob'],
        async ({ server, team: { alice, bob }, newContext }) => {
          // The server: HTTPS, and one fingerprint everywhere.
          assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
          const fingerprint = server.fingerprint
          assert.match(fingerprint, FINGERPRINT, 'the printed fingerprint is in Herald\'s form')
          assert.equal(alice.user.role, 'admin')
          assert.equal(bob.user.role, 'member')
          const info = await serverRequest(server, 'GET', '/api/server')
          assert.equal(info.status, 200)
          assert.equal(
            /** @type {{ tlsFingerprint?: string }} */ (JSON.parse(info.text)).tlsFingerprint,
            fingerprint,
            'GET /api/server reports the printed fingerprint',
          )
          assert.equal(await servedFingerprint(server.port, server.ca), fingerprint, 'the certificate served is the printed one')
          await assert.rejects(
            servedFingerprint(server.port, undefined),
            /self[- ]signed/i,
            'without the server\'s certificate to trust, verification refuses it',
          )
          const page = await serverRequest(server, 'GET', '/')
          assert.equal(page.status, 200)
          assert.equal(page.headers.get('strict-transport-security'), HSTS)

          // The admin's invite dialog: the fingerprint, and a link that carries it.
          const adminContext = await newContext({ permissions: ['clipboard-read', 'clipboard-write'] })
          const a = await adminContext.newPage()
          await signIn(a, alice)
          await waitForConnection(a, 'Live')
          await a.getByRole('button', { name: 'Invite people', exact: true }).click()
          const dialog = a.getByRole('dialog', { name: 'Invite people', exact: true })
          const link = dialog.getByRole('textbox', { name: 'Invite link', exact: true })
          await link.waitFor()
          const inviteUrl = await link.inputValue()
          assert.match(inviteUrl, new RegExp(`^${server.url.replaceAll('.', '\\.')}/join/[^/#?]+#sha256=${fingerprint}$`))
          const shown = dialog.getByText(fingerprint, { exact: true })
          await shown.waitFor()
          assert.match(await dialog.textContent() ?? '', /certificate fingerprint \(SHA-256\)/)
          await dialog.getByRole('button', { name: 'Copy', exact: true }).click()
          await dialog.getByText('Copied.', { exact: true }).waitFor()
          assert.equal(await a.evaluate(() => navigator.clipboard.readText()), inviteUrl, 'Copy puts the link on the clipboard')
          await animationsDone(dialog)
          assert.equal(await overflowRight(dialog), 0, 'the dialog fits the window')
          assert.deepEqual(await splitPairs(shown), [], 'lines break between pairs only')
          await screenshot(a, '13-invite-fingerprint')
          await a.setViewportSize({ width: 390, height: 844 })
          assert.equal(await overflowRight(dialog), 0, 'the dialog fits 390 px')
          assert.deepEqual(await splitPairs(shown), [], 'lines break between pairs only (390 px)')
          await screenshot(a, '13b-invite-fingerprint-narrow')

          // The invited person's browser, not signed in, opens the link.
          const joinContext = await newContext()
          const j = await joinContext.newPage()
          const res = await j.goto(inviteUrl)
          assert.equal(res?.status(), 200)
          assert.equal(res?.headers()['strict-transport-security'], HSTS, 'the page answer over TLS carries HSTS')
          assert.ok(res?.headers()['content-security-policy'], 'and its Content-Security-Policy')
          await j.getByRole('heading', { name: 'Join the team' }).waitFor()
          const compare = j.getByText(/^Compare this fingerprint with the one your admin sees:/)
          await compare.waitFor()
          assert.equal(await compare.locator('code').textContent(), fingerprint, 'the join page shows the same fingerprint')
          assert.deepEqual(await splitPairs(compare.locator('code')), [], 'lines break between pairs only')
          await screenshot(j, '14-join-fingerprint-light')
          assert.ok((await textContrast(compare)) >= 4.5, 'the fingerprint text is readable (light)')

          await j.emulateMedia({ colorScheme: 'dark' })
          for (const text of [compare, compare.locator('code'), j.getByRole('heading', { name: 'Join the team' })]) {
            const ratio = await textContrast(text)
            assert.ok(ratio >= 4.5, `contrast ${ratio.toFixed(2)} in dark mode`)
          }
          await screenshot(j, '15-join-fingerprint-dark')

          await j.emulateMedia({ colorScheme: 'light' })
          await j.setViewportSize({ width: 390, height: 844 })
          assert.equal(await overflowRight(compare), 0, 'the fingerprint wraps inside 390 px')
          assert.equal(await overflowRight(j.locator('body')), 0, 'nothing scrolls sideways at 390 px')
          assert.deepEqual(await splitPairs(compare.locator('code')), [], 'lines break between pairs only (390 px)')
          await screenshot(j, '16-join-fingerprint-narrow')

          // Joining through the form lands in the app.
          await j.setViewportSize({ width: 1280, height: 800 })
          await j.getByLabel('Username', { exact: true }).fill('carol')
          await j.getByLabel('Display name', { exact: true }).fill('Carol')
          await j.getByLabel('Password', { exact: true }).fill('password-carol')
          const join = j.getByRole('button', { name: 'Join', exact: true })
          await join.click()
          await join.waitFor({ state: 'detached' })
          await waitForConnection(j, 'Live')
          assert.equal(new URL(j.url()).pathname, '/', 'the join page gives way to the app')
          assert.equal(await j.getByRole('button', { name: 'Invite people' }).count(), 0, 'a member, not an admin')
          await screenshot(j, '17-joined')
          const members = /** @type {{ users: Array<{ username: string }> }} */ (
            await alice.api.request('GET', '/api/users')
          )
          assert.ok(members.users.some((u) => u.username === 'carol'), 'the admin sees the new member')
        },
        { serverArgs: ['--tls-self-signed'], contextOptions: { ignoreHTTPSErrors: true } },
      ),
  )
})
