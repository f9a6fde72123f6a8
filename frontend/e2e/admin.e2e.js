// @ts-check
/* global document, window, HTMLImageElement */
// End-to-end scenario of what an admin does to the team, three users in their own browsers
// against a real herald-server: the People page (search, the actions menu by keyboard),
// deactivating bob while his browser is open (signed out within a second, told why) and
// reactivating him; a password-reset link for carol that a signed-out browser uses once; a
// multi-use invite that lets two new people in; the audit log listing all of it. Screenshots of
// the People page, the reset dialog, the reset page and the audit log, light and dark and at
// 390 px, and axe scans of the People page and the reset page.
// A second scenario: the admin adds a bot (its token shown once, and it works) and sets its
// avatar; uploads a team icon (a broken file refused in the server's words first); a chat owner
// makes another member an owner, who can then rename the chat; removing a member asks first, and
// Cancel gives focus back. Screenshots light and dark (and the Team page at 390 px), axe scans of
// the new dialogs and the Team page.
// Run with `node --test e2e/admin.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  animationsDone,
  Api,
  axeScan,
  launchBrowser,
  openChat,
  screenshot,
  signIn,
  waitForConnection,
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
 * Screenshots `<light>-<view>-light` and `<dark>-<view>-dark` with an axe scan of each, then the
 * light scheme again.
 * @param {Page} page
 * @param {string} view
 * @param {string} light the light screenshot's number
 * @param {string} dark the dark one's
 */
async function shotsAndAxe(page, view, light, dark) {
  for (const [scheme, n] of /** @type {const} */ ([['light', light], ['dark', dark]])) {
    await page.emulateMedia({ colorScheme: scheme })
    await screenshot(page, `${n}-${view}-${scheme}`)
    await assertAccessible(page, `${view}-${scheme}`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

/** @param {Page} page */
function peopleList(page) {
  return page.getByRole('list', { name: 'People', exact: true })
}

/**
 * Opens the actions menu of a person's row as a keyboard user (focus, ArrowDown), walks down to
 * the item named name and presses Enter.
 * @param {Page} page
 * @param {string} person
 * @param {string} name
 */
async function chooseAction(page, person, name) {
  const button = page.getByRole('button', { name: `Actions for ${person}`, exact: true })
  await button.focus()
  await button.press('ArrowDown')
  const menu = page.getByRole('menu', { name: `Actions for ${person}`, exact: true })
  const wanted = menu.getByRole('menuitem', { name, exact: true })
  await wanted.waitFor()
  for (let i = 0; i < 8; i++) {
    if (await wanted.evaluate((el) => el === document.activeElement)) break
    await page.keyboard.press('ArrowDown')
  }
  assert.ok(await wanted.evaluate((el) => el === document.activeElement), `${name} has focus`)
  await page.keyboard.press('Enter')
}

/**
 * Searches the People page and waits until the list shows exactly the people named.
 * @param {Page} page
 * @param {string} q
 * @param {number} count
 */
async function search(page, q, count) {
  await page.getByRole('searchbox', { name: 'Search people' }).fill(q)
  await page.waitForFunction(
    ([n]) => document.querySelectorAll('[aria-label="People"] > li').length === n && !document.querySelector('[aria-label="People"][aria-busy]'),
    [count],
  )
}

describe('admin', () => {
  test('people, deactivation, reset links, multi-use invites and the audit log', async () => {
    await withScene(browser, 'admin', ['alice', 'bob', 'carol'], async ({ team, newContext, signedIn }) => {
      const alice = await signedIn('alice')
      const bob = await signedIn('bob')
      await waitForConnection(bob, 'Live')

      // The People page, from the sidebar's Admin link.
      await alice.getByRole('link', { name: 'Admin', exact: true }).click()
      await alice.getByRole('heading', { name: 'Admin', level: 1 }).waitFor()
      await peopleList(alice).getByRole('listitem').nth(2).waitFor()
      assert.equal(await peopleList(alice).getByRole('listitem').count(), 3)
      await shotsAndAxe(alice, 'admin-people', '80', '81')

      // Search, then deactivate bob: his open browser is signed out within a second, told why.
      await search(alice, 'bo', 1)
      assert.match((await peopleList(alice).textContent()) ?? '', /@bob/)
      await chooseAction(alice, 'bob', 'Deactivate…')
      const confirm = alice.getByRole('dialog', { name: 'Deactivate bob?' })
      await confirm.waitFor()
      const started = Date.now()
      await confirm.getByRole('button', { name: 'Deactivate', exact: true }).click()
      const notice = bob.getByRole('alert').filter({ hasText: 'Your account was deactivated by an admin.' })
      await notice.waitFor({ timeout: 5_000 })
      const took = Date.now() - started
      assert.ok(took < 1_000, `bob was signed out ${took} ms after the click`)
      await bob.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
      await alice.getByText('bob was deactivated.').waitFor()
      assert.match((await peopleList(alice).textContent()) ?? '', /Deactivated/)
      await screenshot(bob, '82-admin-deactivated-sign-in')

      // Signing in is refused while deactivated; reactivated, it works.
      await assert.rejects(signIn(bob, team.bob), /This account is deactivated\./)
      await chooseAction(alice, 'bob', 'Reactivate…')
      await alice.getByRole('dialog', { name: 'Reactivate bob?' }).getByRole('button', { name: 'Reactivate', exact: true }).click()
      await alice.getByText('bob was reactivated.').waitFor()
      await signIn(bob, team.bob)
      await waitForConnection(bob, 'Live')

      // A reset link for carol, shown once with Copy.
      await search(alice, 'carol', 1)
      await chooseAction(alice, 'carol', 'Reset password…')
      const resetDialog = alice.getByRole('dialog', { name: 'Password reset link for carol' })
      const linkBox = resetDialog.getByRole('textbox', { name: 'Reset link' })
      await linkBox.waitFor()
      const link = await linkBox.inputValue()
      assert.match(link, /\/reset\/[^/]+$/)
      await resetDialog.getByRole('button', { name: 'Copy', exact: true }).click()
      await resetDialog.getByText(/^(Copied\.|Could not copy: select the text and copy it\.)$/).waitFor()
      await screenshot(alice, '83-admin-reset-dialog-light')
      await alice.emulateMedia({ colorScheme: 'dark' })
      await screenshot(alice, '84-admin-reset-dialog-dark')
      await alice.emulateMedia({ colorScheme: 'light' })
      await resetDialog.getByRole('button', { name: 'Done', exact: true }).click()

      // A signed-out browser opens the link, sets a new password and signs in with it.
      const newPassword = 'carol-new-password'
      const stranger = await (await newContext()).newPage()
      await stranger.goto(link)
      await stranger.getByRole('heading', { name: 'Set a new password' }).waitFor()
      await screenshot(stranger, '85-reset-page-light')
      await assertAccessible(stranger, 'reset-page-light')
      await stranger.emulateMedia({ colorScheme: 'dark' })
      await screenshot(stranger, '86-reset-page-dark')
      await assertAccessible(stranger, 'reset-page-dark')
      await stranger.emulateMedia({ colorScheme: 'light' })
      await stranger.getByLabel('New password', { exact: true }).fill(newPassword)
      await stranger.getByLabel('New password again', { exact: true }).fill(newPassword)
      await stranger.getByRole('button', { name: 'Change password', exact: true }).click()
      await stranger.getByRole('status').filter({ hasText: 'Password changed — sign in' }).waitFor()
      await stranger.getByRole('button', { name: 'Sign in', exact: true }).click()
      await signIn(stranger, { ...team.carol, password: newPassword })
      await waitForConnection(stranger, 'Live')

      // The link works once.
      const again = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage()
      await again.goto(link)
      await again.getByLabel('New password', { exact: true }).fill('another-password')
      await again.getByLabel('New password again', { exact: true }).fill('another-password')
      await again.getByRole('button', { name: 'Change password', exact: true }).click()
      await again.getByRole('alert').filter({ hasText: 'used already or it expired' }).waitFor()
      await screenshot(again, '87-reset-page-used-narrow')

      // A multi-use invite (the default: up to 100 people) lets two new people in.
      await alice.getByRole('link', { name: 'Invites', exact: true }).click()
      await alice.getByRole('radio', { name: 'Up to 100 people' }).check()
      await alice.getByRole('button', { name: 'Create link', exact: true }).click()
      const invite = await alice.getByRole('textbox', { name: 'Invite link' }).inputValue()
      await alice.getByRole('list', { name: 'Active invites' }).getByText('100 of 100 uses left').waitFor()
      for (const name of ['dave', 'erin']) {
        const page = await (await newContext()).newPage()
        await page.goto(invite)
        await page.getByRole('heading', { name: 'Join the team' }).waitFor()
        await page.getByLabel('Username', { exact: true }).fill(name)
        await page.getByLabel('Password', { exact: true }).fill(`password-${name}`)
        const join = page.getByRole('button', { name: 'Join', exact: true })
        await join.click()
        await join.waitFor({ state: 'detached' })
        await waitForConnection(page, 'Live')
      }
      await alice.reload()
      await alice.getByRole('list', { name: 'Active invites' }).getByText('98 of 100 uses left').waitFor()
      await screenshot(alice, '91-admin-invites')
      await alice.getByRole('link', { name: 'Team settings', exact: true }).click()
      await alice.getByRole('textbox', { name: 'Team name' }).fill('Acme')
      await alice.getByRole('button', { name: 'Save', exact: true }).click()
      await alice.getByRole('status').filter({ hasText: 'Saved.' }).waitFor()
      // TEAM_UPDATED renames the team in every open browser.
      await bob.locator('.brand').filter({ hasText: 'Acme' }).waitFor()
      await screenshot(alice, '92-admin-team')

      // The audit log lists what happened, newest first.
      await alice.getByRole('link', { name: 'Audit log', exact: true }).click()
      const log = alice.getByRole('list', { name: 'Audit log entries' })
      await log.getByRole('listitem').first().waitFor()
      const entries = await log.locator('.audit-what').allTextContents()
      const expected = [
        'alice changed the team settings: name “Acme”',
        'alice created an invite for up to 100 people',
        'carol set a new password with a reset link',
        'alice made a password-reset link for carol',
        'alice reactivated bob',
        'alice deactivated bob',
      ]
      for (const text of expected) assert.ok(entries.includes(text), `the audit log lists "${text}": ${entries.join(' | ')}`)
      const order = expected.map((text) => entries.indexOf(text))
      assert.deepEqual(order, [...order].sort((a, b) => a - b), 'newest first')
      await screenshot(alice, '88-admin-audit-light')
      await alice.emulateMedia({ colorScheme: 'dark' })
      await screenshot(alice, '89-admin-audit-dark')
      await alice.emulateMedia({ colorScheme: 'light' })

      // The People page at 390 px.
      await alice.setViewportSize({ width: 390, height: 844 })
      await alice.getByRole('link', { name: 'People', exact: true }).click()
      await peopleList(alice).getByRole('listitem').nth(4).waitFor()
      await screenshot(alice, '90-admin-people-narrow')
      const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `the People page fits 390 px (${overflow} px too wide)`)
      await assertAccessible(alice, 'admin-people-narrow')
    })
  })

  test('bots, the team icon, chat owners and confirmed removals', { timeout: 180_000 }, async () => {
    await withScene(browser, 'admin-more', ['alice', 'bob', 'carol'], async ({ server, team, signedIn }) => {
      const alice = await signedIn('alice')

      // Add bot: the dialog, then its token, shown once; the token signs the bot in.
      await alice.getByRole('link', { name: 'Admin', exact: true }).click()
      await peopleList(alice).getByRole('listitem').nth(2).waitFor()
      const addBot = alice.getByRole('button', { name: 'Add bot', exact: true })
      await addBot.click()
      const add = alice.getByRole('dialog', { name: 'Add a bot' })
      await add.getByRole('textbox', { name: 'Bot name' }).fill('Deploy Bot')
      await add.getByRole('textbox', { name: 'Avatar (optional)' }).fill('🚀')
      await screenshot(alice, '93-admin-add-bot-light')
      await assertAccessible(alice, 'admin-add-bot-light')
      await add.getByRole('button', { name: 'Add bot', exact: true }).click()
      const added = alice.getByRole('dialog', { name: 'Deploy Bot is added' })
      const tokenBox = added.getByRole('textbox', { name: 'Bot token' })
      await tokenBox.waitFor()
      const token = await tokenBox.inputValue()
      assert.ok(token.length >= 20, `a token is shown (${token.length} characters)`)
      const me = /** @type {{ user: { username: string, kind?: string, avatar?: string } }} */ (
        await new Api(server, token).request('GET', '/api/me')
      )
      assert.deepEqual([me.user.username, me.user.kind, me.user.avatar], ['deploy-bot', 'bot', '🚀'])
      await shotsAndAxe(alice, 'admin-bot-token', '94', '95')
      await added.getByRole('button', { name: 'Done', exact: true }).click()
      await added.waitFor({ state: 'detached' })
      assert.ok(await addBot.evaluate((el) => el === document.activeElement), 'focus is back on Add bot')
      assert.ok(!(await alice.content()).includes(token), 'the token is shown once: gone from the page')
      await peopleList(alice).getByRole('listitem').filter({ hasText: 'Deploy Bot' }).waitFor()

      // Its avatar changes through Set avatar….
      await chooseAction(alice, 'Deploy Bot', 'Set avatar…')
      const avatarDialog = alice.getByRole('dialog', { name: 'Avatar for Deploy Bot' })
      await avatarDialog.getByRole('textbox', { name: 'Avatar (optional)' }).fill('🔧')
      await avatarDialog.getByRole('button', { name: 'Save avatar', exact: true }).click()
      await alice.getByRole('status').filter({ hasText: "Deploy Bot's avatar is saved." }).waitFor()
      await peopleList(alice).getByRole('listitem').filter({ hasText: '🔧' }).filter({ hasText: 'Deploy Bot' }).waitFor()

      // The team icon: a file that is no image is refused in the server's words; a PNG is shown.
      await alice.getByRole('link', { name: 'Team settings', exact: true }).click()
      const iconInput = alice.getByLabel('Choose an icon (PNG, JPEG or GIF, at most 5 MB)')
      await iconInput.setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('this is not a PNG') })
      await alice.getByRole('button', { name: 'Upload icon', exact: true }).click()
      const refused = alice.getByRole('alert').filter({ hasText: /^Could not change the icon: / })
      await refused.waitFor()
      assert.notEqual(await refused.textContent(), 'Could not change the icon: Choose a PNG, JPEG or GIF image.')
      // A real PNG: what the page itself looks like, cut to a square.
      const png = await alice.screenshot({ clip: { x: 0, y: 0, width: 120, height: 120 } })
      await iconInput.setInputFiles({ name: 'icon.png', mimeType: 'image/png', buffer: png })
      await alice.getByRole('img', { name: 'Preview of the new icon, cropped to a square' }).waitFor()
      await alice.getByRole('button', { name: 'Upload icon', exact: true }).click()
      await alice.getByRole('status').filter({ hasText: 'The icon is saved.' }).waitFor()
      const icon = alice.getByRole('img', { name: "The team's icon" })
      await icon.waitFor()
      await alice.waitForFunction(() => {
        const img = document.querySelector('img[alt="The team\'s icon"]')
        return img instanceof HTMLImageElement && img.complete && img.naturalWidth === 256
      })
      assert.match((await icon.getAttribute('src')) ?? '', /^\/api\/team\/icon\?v=\d+&size=256$/)
      const { team: settings } = /** @type {{ team: { iconUrl?: string } }} */ (await team.bob.api.request('GET', '/api/team'))
      assert.match(settings.iconUrl ?? '', /^\/api\/team\/icon\?v=\d+$/)
      await shotsAndAxe(alice, 'admin-team-icon', '96', '97')
      await alice.setViewportSize({ width: 390, height: 844 })
      await screenshot(alice, '98-admin-team-icon-narrow')
      const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `the Team page fits 390 px (${overflow} px too wide)`)
      await alice.setViewportSize({ width: 1280, height: 800 })

      // Chat owners: bob (a member, no owner) sees no Name field; alice makes him an owner and
      // his open settings gain it live (CHAT_UPDATED); he renames the chat.
      const crew = await team.alice.api.createChat('crew', [team.bob.user.id, team.carol.user.id])
      const bob = await signedIn('bob')
      await waitForConnection(bob, 'Live')
      await openChat(bob, 'crew')
      await bob.getByRole('button', { name: 'Chat settings' }).click()
      const bobSettings = bob.getByRole('dialog', { name: 'Chat settings' })
      await bobSettings.getByRole('region', { name: 'Owners (1)' }).waitFor()
      assert.equal(await bobSettings.getByRole('textbox', { name: 'Name', exact: true }).count(), 0)

      await openChat(alice, 'crew')
      await alice.getByRole('button', { name: 'Chat settings' }).click()
      const aliceSettings = alice.getByRole('dialog', { name: 'Chat settings' })
      await aliceSettings.getByRole('button', { name: 'Make owner: bob', exact: true }).click()
      const owners = aliceSettings.getByRole('list', { name: 'Owners (2)' })
      await owners.getByText('bob', { exact: true }).waitFor()
      await aliceSettings.getByRole('button', { name: 'Remove owner: bob', exact: true }).waitFor()
      await shotsAndAxe(alice, 'chat-owners', '99', '100')

      const bobName = bobSettings.getByRole('textbox', { name: 'Name', exact: true })
      await bobName.waitFor()
      await bobName.fill('crew-renamed')
      await bobSettings.getByRole('button', { name: 'Save', exact: true }).click()
      await waitUntil(
        async () => {
          const { chat } = /** @type {{ chat: { name: string } }} */ (await team.alice.api.request('GET', `/api/chats/${crew.id}`))
          return chat.name === 'crew-renamed'
        },
        { what: "the chat renamed by bob, its new owner" },
      )
      await aliceSettings.getByText('#crew-renamed').waitFor()

      // Removing carol asks first; Cancel keeps her and gives focus back to Remove carol.
      const removeCarol = aliceSettings.getByRole('button', { name: 'Remove carol', exact: true })
      await removeCarol.click()
      const confirm = alice.getByRole('dialog', { name: 'Remove carol from #crew-renamed?' })
      await confirm.waitFor()
      await shotsAndAxe(alice, 'remove-member-confirm', '101', '102')
      await confirm.getByRole('button', { name: 'Cancel', exact: true }).click()
      await confirm.waitFor({ state: 'detached' })
      assert.ok(await removeCarol.evaluate((el) => el === document.activeElement), 'focus is back on Remove carol')
      const held = /** @type {{ chat: { memberIds: string[] } }} */ (await team.alice.api.request('GET', `/api/chats/${crew.id}`))
      assert.ok(held.chat.memberIds.includes(team.carol.user.id), 'Cancel keeps carol')

      await removeCarol.click()
      await confirm.getByRole('button', { name: 'Remove', exact: true }).click()
      await removeCarol.waitFor({ state: 'detached' })
      const after = /** @type {{ chat: { memberIds: string[] } }} */ (await team.alice.api.request('GET', `/api/chats/${crew.id}`))
      assert.ok(!after.chat.memberIds.includes(team.carol.user.id), 'carol is removed')
    })
  })
})
