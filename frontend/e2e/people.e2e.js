// @ts-check
// End-to-end scenario of people's profiles (issue 11), two users in real browsers against a real
// herald-server: alice uploads an avatar, sets a status and renames herself on her account page
// and bob's browser shows each live (messages, member list, profile card); alice changes her
// password in one browser and her other one is signed out; the sessions list shows both sessions
// and "Sign out everywhere else" ends the other. Screenshots and axe scans of the account page and
// the profile card. Run with `node --test e2e/people.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { crc32, deflateSync } from 'node:zlib'
import {
  animationsDone,
  axeScan,
  launchBrowser,
  nonce,
  openLive,
  screenshot,
  sendWithEnter,
  signIn,
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
 * A width × height PNG of one opaque colour (r, g, b).
 * @param {number} width
 * @param {number} height
 * @param {[number, number, number]} rgb
 */
function solidPng(width, height, [r, g, b]) {
  const row = 1 + width * 3
  const raw = Buffer.alloc(row * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([r, g, b], y * row + 1 + x * 3)
  }
  /** @param {string} type @param {Buffer} data */
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
  ihdr[8] = 8
  ihdr[9] = 2
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/**
 * @param {Page} page
 * @param {string} name
 */
async function assertAccessible(page, name) {
  await animationsDone(page.locator('body'))
  const violations = await axeScan(page, name)
  assert.deepEqual(violations, [], `axe: serious or critical violations in ${name}`)
}

/** @param {Page} page */
async function openAccount(page) {
  await page.getByRole('link', { name: 'Settings', exact: true }).click()
  await page.getByRole('navigation', { name: 'Settings pages' }).getByRole('link', { name: 'Account' }).click()
  await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor()
}

/** @param {Page} page */
function members(page) {
  return page.getByRole('list', { name: 'Members' })
}

describe('people end to end', () => {
  test('avatar, status and name go live to others; password and sessions end other browsers', { timeout: 120_000 }, () =>
    withScene(browser, 'people', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn, newContext }) => {
      const chat = await alice.api.createChat('Design review', [bob.user.id])
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      await openLive(chat.name, a, b)
      const n = nonce()
      const hello = `Here are the mockups [${n}]`
      await sendWithEnter(a, hello)
      await waitInLog(b, hello)
      await members(b).getByRole('listitem').filter({ hasText: /^alice, online$/ }).waitFor()

      // alice uploads a picture on her account page.
      await openAccount(a)
      await a.getByLabel(/Choose an image/).setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: solidPng(300, 200, [200, 60, 20]) })
      await a.getByRole('img', { name: /Preview of the new picture/ }).waitFor()
      await a.getByRole('button', { name: 'Upload picture' }).click()
      await a.getByText('Your new picture is saved.').waitFor()

      // bob sees it on her message and in the member list, without a reload.
      const row = b.locator('.message').filter({ hasText: hello })
      await row.locator('img.user-avatar[src*="/avatar?v="]').waitFor({ timeout: 10_000 })
      await members(b).locator('img.user-avatar[src*="size=64"]').waitFor()
      const loaded = await row.locator('img.user-avatar').evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth)
      assert.equal(loaded, 64, 'the 64 px avatar is served and drawn')

      // alice sets a status with an emoji; bob sees it live.
      await a.getByRole('button', { name: 'Choose a status emoji' }).click()
      const picker = a.getByRole('dialog', { name: 'Choose a status emoji' })
      await picker.getByRole('searchbox').or(picker.getByRole('textbox')).first().fill('palm')
      await a.keyboard.press('Enter')
      await a.getByLabel('What are you up to?').fill('On holiday')
      await a.getByLabel('Clear after').selectOption('week')
      await a.getByRole('button', { name: 'Save status' }).click()
      await a.getByText(/^Now: .*On holiday/).waitFor()
      await members(b).getByRole('listitem').filter({ hasText: 'On holiday' }).waitFor({ timeout: 10_000 })

      // alice changes her display name; bob sees it on her messages and in the list.
      await a.getByLabel('Display name').fill('Alice Wonder')
      await a.getByRole('button', { name: 'Save name' }).click()
      await a.getByText('Saved').first().waitFor()
      await row.getByRole('button', { name: 'Alice Wonder', exact: true }).waitFor({ timeout: 10_000 })
      await members(b).getByRole('listitem').filter({ hasText: /^Alice Wonder, online/ }).waitFor()

      // Screenshots of the account page, light and dark and at 390 px, and its axe scans.
      await a.getByRole('list', { name: 'Sessions' }).waitFor()
      await screenshot(a, '70-account-settings')
      await assertAccessible(a, 'account-light')
      await a.emulateMedia({ colorScheme: 'dark' })
      await screenshot(a, '71-account-settings-dark')
      await assertAccessible(a, 'account-dark')
      await a.emulateMedia({ colorScheme: 'light' })
      await a.setViewportSize({ width: 390, height: 844 })
      await screenshot(a, '72-account-settings-narrow')
      await a.setViewportSize({ width: 1280, height: 800 })

      // bob opens alice's profile card from her name on a message.
      await row.getByRole('button', { name: 'Alice Wonder', exact: true }).click()
      const card = b.getByRole('dialog', { name: 'Alice Wonder' })
      await card.waitFor()
      await card.getByText('On holiday').waitFor()
      await card.getByText('@alice').waitFor()
      await screenshot(b, '73-profile-card')
      await assertAccessible(b, 'profile-card-light')
      await b.emulateMedia({ colorScheme: 'dark' })
      await screenshot(b, '74-profile-card-dark')
      await assertAccessible(b, 'profile-card-dark')
      await b.keyboard.press('Escape')
      await card.waitFor({ state: 'detached' })
      await screenshot(b, '75-avatars-in-chat-dark')
      await b.emulateMedia({ colorScheme: 'light' })
      await screenshot(b, '76-avatars-in-chat')

      // alice in a second browser; both sessions listed; "Sign out everywhere else" ends it.
      const a2 = await (await newContext()).newPage()
      await signIn(a2, alice)
      await a2.getByRole('button', { name: 'Sign out', exact: true }).waitFor()
      await a.reload()
      const sessions = a.getByRole('list', { name: 'Sessions' })
      // Both browsers (the team's setup also holds an API session of alice's).
      await waitUntil(async () => (await sessions.getByRole('listitem').filter({ hasText: 'Chrome' }).count()) === 2, {
        what: 'both browser sessions listed',
      })
      await sessions.getByText('This device').waitFor()
      await screenshot(a, '77-sessions')
      await a.getByRole('button', { name: 'Sign out everywhere else' }).click()
      const confirm = a.getByRole('dialog', { name: 'Sign out everywhere else?' })
      await confirm.getByRole('button', { name: 'Sign out everywhere else' }).click()
      await a.getByText(/^Signed out \d+ other sessions?\.$/).waitFor()
      await a2.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 15_000 })

      // A password change in one browser signs the other out.
      await signIn(a2, alice)
      await a2.getByRole('button', { name: 'Sign out', exact: true }).waitFor()
      await a.getByLabel('Current password').fill(alice.password)
      await a.getByLabel('New password', { exact: true }).fill('a-new-password-1')
      await a.getByLabel('New password again').fill('a-new-password-1')
      await a.getByRole('button', { name: 'Change password' }).click()
      await a.getByText('Password changed. Your other devices are signed out.').waitFor()
      await a2.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 15_000 })
      // This browser stays signed in.
      await a.getByRole('heading', { level: 1, name: 'Account' }).waitFor()
    }),
  )
})
