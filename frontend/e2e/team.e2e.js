// @ts-check
// End-to-end scenario of how a team organises its chats, three users in three browsers against a
// real herald-server: a channel created, found under Browse channels and joined (the creator sees
// the new member live), renamed with a topic and archived (live for the member, whose composer
// gives way to "This chat is archived"), a DM started from the member list (live under Direct
// messages for the other), a member leaving a private chat and another removed from it (gone
// from their sidebar at once); screenshots of the sidebar sections and dialogs, light, dark and
// 390 px, and axe scans of Browse channels, Chat settings and the sidebar.
// Run with `node --test e2e/team.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { animationsDone, axeScan, composer, launchBrowser, nonce, screenshot, sendWithEnter, waitInLog, withScene } from './harness.js'

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
 * The serious and critical axe violations of the page, none expected (judged at rest).
 * @param {Page} page
 * @param {string} name
 */
async function assertAccessible(page, name) {
  await animationsDone(page.locator('body'))
  const violations = await axeScan(page, name)
  assert.deepEqual(violations, [], `axe: serious or critical violations in ${name}`)
}

/**
 * A sidebar section (Channels, Direct messages).
 * @param {Page} page
 * @param {string} name
 */
function section(page, name) {
  return page.getByRole('navigation', { name: 'Chats' }).getByRole('region', { name })
}

/**
 * The member list's entry of a person, by username.
 * @param {Page} page
 * @param {string} username
 */
function memberEntry(page, username) {
  return page.getByRole('list', { name: 'Members' }).getByRole('button', { name: new RegExp(`^${username}\\b`) })
}

/**
 * Opens the open chat's settings dialog.
 * @param {Page} page
 */
async function openSettings(page) {
  await page.getByRole('button', { name: 'Chat settings' }).click()
  const dialog = page.getByRole('dialog', { name: 'Chat settings' })
  await dialog.waitFor()
  return dialog
}

describe('team chats', () => {
  test('channels, archive, DMs, leaving and removal, live for everyone', { timeout: 180_000 }, () =>
    withScene(browser, 'team', ['alice', 'bob', 'carol'], async ({ team: { alice, bob, carol }, signedIn }) => {
      const n = nonce()
      const a = await signedIn('alice')
      const b = await signedIn('bob')
      const c = await signedIn('carol')

      // alice creates a channel.
      await a.getByRole('button', { name: 'New chat', exact: true }).click()
      const newChat = a.getByRole('dialog', { name: 'New chat' })
      await newChat.getByRole('radio', { name: /^Channel/ }).check()
      await newChat.getByRole('textbox', { name: 'Chat name' }).fill(`launch-${n}`)
      await newChat.getByRole('textbox', { name: /^Topic/ }).fill('Getting v2 out')
      await screenshot(a, '50-new-chat')
      await newChat.getByRole('button', { name: 'Create' }).click()
      await composer(a).waitFor()
      await section(a, 'Channels').getByRole('link', { name: `launch-${n}` }).waitFor()
      // A taken name is said at the field.
      await a.getByRole('button', { name: 'New chat', exact: true }).click()
      await newChat.getByRole('textbox', { name: 'Chat name' }).fill(`LAUNCH-${n}`)
      await newChat.getByRole('button', { name: 'Create' }).click()
      await newChat.getByRole('alert').filter({ hasText: 'already exists' }).waitFor()
      assert.equal(await newChat.getByRole('textbox', { name: 'Chat name' }).getAttribute('aria-invalid'), 'true')
      await newChat.getByRole('button', { name: 'Cancel' }).click()

      // bob browses and joins it; alice sees him join live.
      await b.getByRole('button', { name: 'Browse channels' }).click()
      const browse = b.getByRole('dialog', { name: 'Browse channels' })
      await browse.getByRole('button', { name: `Join #launch-${n}` }).waitFor()
      await browse.getByRole('searchbox', { name: 'Search channels' }).fill('v2')
      await assertAccessible(b, 'browse-channels')
      await screenshot(b, '51-browse-channels')
      await b.emulateMedia({ colorScheme: 'dark' })
      await assertAccessible(b, 'browse-channels-dark')
      await screenshot(b, '52-browse-channels-dark')
      await b.emulateMedia({ colorScheme: 'light' })
      await browse.getByRole('button', { name: `Join #launch-${n}` }).press('Enter')
      await composer(b).waitFor()
      await section(b, 'Channels').getByRole('link', { name: `launch-${n}` }).waitFor()
      await memberEntry(a, 'bob').waitFor()

      // alice renames it and sets a topic; bob sees both live.
      let settings = await openSettings(a)
      await settings.getByRole('textbox', { name: 'Name' }).fill(`ship-${n}`)
      await settings.getByRole('textbox', { name: 'Topic' }).fill('Ship it on Friday')
      await settings.getByRole('button', { name: 'Save' }).click()
      await assertAccessible(a, 'chat-settings')
      await screenshot(a, '53-chat-settings')
      await a.emulateMedia({ colorScheme: 'dark' })
      await assertAccessible(a, 'chat-settings-dark')
      await screenshot(a, '54-chat-settings-dark')
      await a.emulateMedia({ colorScheme: 'light' })
      await b.getByRole('heading', { level: 1, name: `ship-${n}` }).waitFor()
      await b.getByText('Ship it on Friday').waitFor()
      await section(b, 'Channels').getByRole('link', { name: `ship-${n}` }).waitFor()

      // alice archives it: bob's composer gives way, and posting is refused.
      await settings.getByRole('button', { name: 'Archive chat' }).click()
      await settings.getByRole('button', { name: 'Unarchive chat' }).waitFor()
      await settings.getByRole('button', { name: 'Close' }).click()
      await b.getByText('This chat is archived.').waitFor()
      assert.equal(await composer(b).count(), 0, 'no composer in an archived chat')
      await assert.rejects(bob.api.postMessage(channelId(b), 'sneaky'), /archived/i)
      await a.getByRole('button', { name: 'Unarchive' }).waitFor()
      await screenshot(b, '55-archived-chat')
      await b.emulateMedia({ colorScheme: 'dark' })
      await screenshot(b, '56-archived-chat-dark')
      await b.emulateMedia({ colorScheme: 'light' })
      const archivedToggle = b.getByRole('button', { name: 'Archived (1)' })
      assert.equal(await archivedToggle.getAttribute('aria-expanded'), 'true', 'the open chat’s section is shown')

      // bob starts a DM with carol from a private chat's member list; carol sees it live.
      const crew = await alice.api.createChat(`crew-${n}`, [bob.user.id, carol.user.id])
      await b.getByRole('link', { name: `crew-${n}` }).click()
      await composer(b).waitFor()
      await memberEntry(b, 'carol').click()
      await b.getByRole('dialog', { name: 'carol' }).getByRole('button', { name: 'Message' }).click()
      await section(b, 'Direct messages').getByRole('link', { name: 'carol' }).waitFor()
      await composer(b).waitFor()
      await sendWithEnter(b, `hi carol ${n}`)
      await section(c, 'Direct messages').getByRole('link', { name: 'bob' }).waitFor()
      await c.getByRole('link', { name: 'bob' }).click()
      await waitInLog(c, `hi carol ${n}`)
      await screenshot(c, '57-dm')
      await c.emulateMedia({ colorScheme: 'dark' })
      await screenshot(c, '58-dm-dark')
      await c.emulateMedia({ colorScheme: 'light' })

      // The sidebar's sections, light and dark, and at 390 px.
      await assertAccessible(b, 'sidebar')
      await screenshot(b, '59-sidebar-sections')
      await b.emulateMedia({ colorScheme: 'dark' })
      await assertAccessible(b, 'sidebar-dark')
      await screenshot(b, '60-sidebar-sections-dark')
      await b.emulateMedia({ colorScheme: 'light' })

      // carol leaves the private chat; alice, in it, sees her gone live.
      await a.getByRole('link', { name: `crew-${n}` }).click()
      await composer(a).waitFor()
      await memberEntry(a, 'carol').waitFor()
      await c.getByRole('link', { name: `crew-${n}` }).click()
      await composer(c).waitFor()
      settings = await openSettings(c)
      await settings.getByRole('button', { name: 'Leave chat' }).click()
      await c.getByRole('dialog', { name: `Leave #crew-${n}?` }).getByRole('button', { name: 'Leave' }).click()
      await c.waitForURL((url) => url.pathname === '/')
      assert.equal(await c.getByRole('link', { name: `crew-${n}` }).count(), 0)
      await memberEntry(a, 'carol').waitFor({ state: 'detached' })

      // alice removes bob, who has it open: it leaves his sidebar at once.
      await b.getByRole('link', { name: `crew-${n}` }).click()
      await composer(b).waitFor()
      settings = await openSettings(a)
      await settings.getByRole('button', { name: 'Remove bob' }).click()
      await b.getByRole('heading', { level: 1, name: `You were removed from #crew-${n}` }).waitFor()
      assert.equal(await b.getByRole('link', { name: `crew-${n}` }).count(), 0)
      await memberEntry(a, 'bob').waitFor({ state: 'detached' })
      await settings.getByRole('button', { name: 'Close' }).click()
      assert.ok(crew.id)

      // 390 px: the sidebar's sections and a dialog fit.
      await b.getByRole('link', { name: 'Go to all chats' }).click()
      await b.setViewportSize({ width: 390, height: 800 })
      await section(b, 'Direct messages').waitFor()
      await screenshot(b, '61-sidebar-narrow')
      await b.getByRole('button', { name: 'Browse channels' }).click()
      await b.getByRole('dialog', { name: 'Browse channels' }).waitFor()
      const fits = await b.getByRole('dialog', { name: 'Browse channels' }).evaluate((el) => el.getBoundingClientRect().right <= 390)
      assert.ok(fits, 'Browse channels fits 390 px')
      await screenshot(b, '62-browse-narrow')
    }))
})

/**
 * The id of the chat open in page, from its URL.
 * @param {Page} page
 */
function channelId(page) {
  const id = new URL(page.url()).pathname.split('/')[2]
  assert.ok(id, 'a chat is open')
  return id
}
