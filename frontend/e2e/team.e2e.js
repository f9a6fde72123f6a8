// @ts-check
/* global document, getComputedStyle */
// End-to-end scenario of how a team organises its chats, three users in three browsers against a
// real herald-server: a channel created, found under Browse channels and joined (the creator sees
// the new member live), renamed with a topic and archived (live for the member, whose composer
// gives way to "This chat is archived"), a DM started from the member list (live under Direct
// messages for the other), a member leaving a private chat and another removed from it (gone
// from their sidebar at once); screenshots of the sidebar sections and dialogs, light, dark and
// 390 px, and axe scans of Browse channels, Chat settings and the sidebar.
// A second scenario covers the sidebar of issue 11: a DM for both with the other's avatar, the
// DM named by its person (thread panel, pinned messages, search, never "#"), the team renamed
// by the admin live in every browser, a muted chat dimmed and described "muted", a mention count
// that appears and clears, and a DM hidden in one of bob's browsers leaving the other too, back
// with its next message; screenshots light, dark and at 390 px, axe scans of the sidebar with
// its badges and of the Hide conversation dialog.
// Run with `node --test e2e/team.e2e.js` from frontend/ (see README.md).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { animationsDone, axeScan, composer, launchBrowser, nonce, screenshot, sendWithEnter, toastRegion, waitInLog, waitUntil, withScene } from './harness.js'

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
 * @param {string} [include] a CSS selector to scan only that part (the view a step is about,
 *   not the toasts that come and go beside it)
 */
async function assertAccessible(page, name, include) {
  await animationsDone(page.locator('body'))
  const violations = await axeScan(page, name, include ? { include } : {})
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
      await a.getByRole('dialog', { name: `Remove bob from #crew-${n}?` }).getByRole('button', { name: 'Remove' }).click()
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

describe('the sidebar', () => {
  test('DM avatars and names, team name live, muted chats, mention counts, hidden DMs', { timeout: 180_000 }, () =>
    withScene(browser, 'sidebar', ['alice', 'bob'], async ({ team: { alice, bob }, signedIn }) => {
      const n = nonce()
      const general = await alice.api.createChat(`general-${n}`, [bob.user.id])
      const ops = await alice.api.createChat(`ops-${n}`, [bob.user.id])
      await alice.api.postMessage(general.id, `good morning ${n}`)
      const a = await signedIn('alice')
      const b = await signedIn('bob')

      // alice starts a DM with bob; it is under Direct messages for both, with the other's avatar
      // and presence marker.
      const dm = /** @type {{ chat: { id: string } }} */ (await alice.api.request('POST', '/api/dms', { userIds: [bob.user.id] })).chat
      const hello = await alice.api.postMessage(dm.id, `lunch plans ${n}?`)
      const aliceDM = section(b, 'Direct messages').getByRole('link', { name: 'alice' })
      const bobDM = section(a, 'Direct messages').getByRole('link', { name: 'bob' })
      await aliceDM.waitFor()
      await bobDM.waitFor()
      for (const link of [aliceDM, bobDM]) {
        assert.equal(await link.locator('.member-avatar .user-avatar').count(), 1, 'the DM shows the other’s avatar')
        assert.equal(await link.locator('.member-avatar .presence-marker').count(), 1, 'with their presence marker')
      }
      await waitUntil(async () => /^online\b/.test(await description(aliceDM)), { what: 'alice online in bob’s sidebar' })

      // In the DM, the thread panel, the pins and search name alice, never "#".
      await alice.api.request('POST', `/api/chats/${dm.id}/messages`, { content: `the usual place ${n}`, parentId: hello.id })
      await alice.api.request('PUT', `/api/chats/${dm.id}/pins/${hello.id}`)
      await aliceDM.click()
      await waitInLog(b, `lunch plans ${n}?`)
      await b.getByRole('log', { name: 'Messages in alice' }).waitFor()
      assert.equal(await composer(b).getAttribute('placeholder'), 'Message alice')
      await b.getByRole('button', { name: /^1 reply/ }).click()
      const panel = b.getByRole('complementary', { name: 'Thread in alice' })
      await panel.getByText(`the usual place ${n}`).waitFor()
      await panel.getByRole('checkbox', { name: 'Also send to alice' }).waitFor()
      assert.doesNotMatch(await panel.locator('.thread-header').innerText(), /#/)
      await screenshot(b, '63-dm-thread')
      await panel.getByRole('button', { name: 'Close thread' }).click()
      await b.getByRole('button', { name: 'Pinned messages (1)' }).click()
      const pins = b.getByRole('dialog', { name: 'Pinned messages' })
      await pins.getByRole('list', { name: 'Pinned messages in alice' }).waitFor()
      assert.doesNotMatch(await pins.innerText(), /#/)
      await pins.getByRole('button', { name: 'Close', exact: true }).click()
      const search = b.getByRole('combobox', { name: 'Search messages' })
      await search.fill(`lunch plans ${n}`)
      await search.press('Enter')
      await b.getByRole('listbox', { name: 'Search results' }).getByRole('group', { name: 'alice' }).waitFor()
      assert.equal(await b.getByRole('listbox', { name: 'Search results' }).getByRole('group', { name: /#/ }).count(), 0)
      await search.press('Escape')

      // alice, the admin, renames the team: both app bars over the sidebar follow live, with its
      // initials on a square (no icon).
      await alice.api.request('PATCH', '/api/team', { name: `Acme ${n}` })
      for (const page of [a, b]) {
        const brand = page.getByRole('banner').locator('.brand')
        await brand.filter({ hasText: `Acme ${n}` }).waitFor()
        assert.equal(await brand.locator('.team-initials').getAttribute('data-initials'), `A${n[0]}`.toUpperCase())
      }

      // bob mutes #ops (from another device: PUT /api/preferences): dimmed and described muted.
      const opsLink = section(b, 'Channels').getByRole('link', { name: `ops-${n}` })
      const generalLink = section(b, 'Channels').getByRole('link', { name: `general-${n}` })
      const preferences = /** @type {{ preferences: { mutedChats: string[] } }} */ (await bob.api.request('GET', '/api/preferences')).preferences
      await bob.api.request('PUT', '/api/preferences', { ...preferences, mutedChats: [ops.id] })
      await waitUntil(async () => /muted/.test(await description(opsLink)), { what: 'ops described as muted' })
      assert.doesNotMatch(await description(generalLink), /muted/)
      const colour = (/** @type {import('playwright-core').Locator} */ link) => link.evaluate((el) => getComputedStyle(el).color)
      assert.notEqual(await colour(opsLink), await colour(generalLink), 'a muted chat is dimmed')
      assert.equal(await opsLink.locator('.muted-mark').count(), 1, 'and marked, not by colour alone')

      // alice mentions bob in #general: the count appears beside the unread count, and clears
      // when he reads it.
      await alice.api.postMessage(general.id, `@bob can you check the deploy ${n}?`)
      await waitUntil(async () => /\b2 unread, 1 mention\b/.test(await description(generalLink)), {
        what: 'bob’s sidebar to say 2 unread, 1 mention',
      })
      const badges = generalLink.locator('xpath=..').locator('.badges')
      assert.equal(await badges.locator('.mention-badge').innerText(), '@1')
      assert.equal(await badges.locator('.badge:not(.mention-badge)').innerText(), '2')
      await assertAccessible(b, 'sidebar-badges', '.sidebar')
      await screenshot(b, '64-sidebar-badges')
      await b.emulateMedia({ colorScheme: 'dark' })
      await assertAccessible(b, 'sidebar-badges-dark', '.sidebar')
      await screenshot(b, '65-sidebar-badges-dark')
      await b.emulateMedia({ colorScheme: 'light' })
      await generalLink.click()
      await waitInLog(b, `can you check the deploy ${n}?`)
      await waitUntil(async () => !/mention|unread/.test(await description(generalLink)), { what: 'the mention count to clear' })
      assert.equal(await badges.count(), 0, 'no badge once read')

      // bob hides the DM in this browser: it leaves his other browser too, and both get it back
      // with alice's next message.
      const b2 = await signedIn('bob')
      const otherDM = section(b2, 'Direct messages').getByRole('link', { name: 'alice' })
      await otherDM.waitFor()
      await aliceDM.click()
      await composer(b).waitFor()
      const settings = await openSettings(b)
      await settings.getByRole('button', { name: 'Hide conversation' }).click()
      const hide = b.getByRole('dialog', { name: 'Hide this conversation?' })
      await assertAccessible(b, 'hide-conversation', 'dialog')
      await screenshot(b, '66-hide-conversation')
      await hide.getByRole('button', { name: 'Hide' }).click()
      await b.waitForURL((url) => url.pathname === '/')
      await aliceDM.waitFor({ state: 'detached' })
      await otherDM.waitFor({ state: 'detached' })
      await alice.api.postMessage(dm.id, `still on for lunch ${n}?`)
      await aliceDM.waitFor()
      await otherDM.waitFor()

      // 390 px: the sidebar with its avatars and badges fits.
      await alice.api.postMessage(general.id, `@bob one more ${n}`)
      await waitUntil(async () => /1 mention/.test(await description(generalLink)), { what: 'a new mention' })
      // The toasts of these messages would cover the sidebar: dismissed first, the last one's
      // included.
      await toastRegion(b).getByRole('listitem').filter({ hasText: `one more ${n}` }).waitFor()
      const staying = toastRegion(b).locator('.toast:not(.toast-leaving)')
      // Dismissing one shows the next of the queue: until none is left.
      await waitUntil(
        async () => {
          if ((await staying.count()) > 0) await staying.first().getByRole('button', { name: /^Dismiss/ }).click()
          // Leaving ones too (hidden from the accessibility tree while they fade).
          return (await toastRegion(b).locator('.toast').count()) === 0
        },
        { what: 'every toast dismissed' },
      )
      await b.setViewportSize({ width: 390, height: 800 })
      await section(b, 'Direct messages').waitFor()
      const fits = await badges.evaluate((el) => el.getBoundingClientRect().right <= 390)
      assert.ok(fits, 'the badges fit 390 px')
      await screenshot(b, '67-sidebar-badges-narrow')
    }))
})

/**
 * An element's accessible description: the texts of the elements its aria-describedby names
 * (the sidebar's link: the chat's kind, unread and mention counts, muted).
 * @param {import('playwright-core').Locator} locator
 */
function description(locator) {
  return locator.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => (id ? (document.getElementById(id)?.textContent ?? '') : ''))
      .join(' '),
  )
}

/**
 * The id of the chat open in page, from its URL.
 * @param {Page} page
 */
function channelId(page) {
  const id = new URL(page.url()).pathname.split('/')[2]
  assert.ok(id, 'a chat is open')
  return id
}
