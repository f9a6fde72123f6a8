// @ts-check
/* global document, window */
// Checks of the harness itself, so a scenario failure is about the web client and not the
// plumbing: the server process survives SIGKILL + restart on the same port with its data, the
// REST helpers speak the API, and Chromium reaches the server.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import {
  ARTIFACTS_DIR,
  ApiError,
  HeraldServer,
  createTeam,
  cspViolationsIn,
  launchBrowser,
  newContext,
  screenshot,
  waitUntil,
} from './harness.js'

test('the server restarts on the same port with its data after SIGKILL', { timeout: 30_000 }, async () => {
  const server = await HeraldServer.start({ label: 'harness' })
  try {
    const { alice, bob } = await createTeam(server, ['alice', 'bob'])
    assert.equal(alice.user.role, 'admin')
    assert.equal(bob.user.role, 'member')
    const chat = await alice.api.createChat('Harness', [bob.user.id])
    const posted = await bob.api.postMessage(chat.id, 'before the crash', 'harness-1')
    assert.equal((await alice.api.streamStats()).subscribers, 0)

    const { port, url } = server
    const pid = server.pid
    await server.kill()
    assert.equal(server.pid, undefined)
    await assert.rejects(fetch(`${url}/api/server`), 'nothing listens after the kill')

    await server.restart()
    assert.equal(server.port, port)
    assert.notEqual(server.pid, pid)
    const again = await bob.api.postMessage(chat.id, 'before the crash', 'harness-1')
    assert.equal(again.id, posted.id, 'same clientId after the restart: the same message')
    const stored = await alice.api.allMessages(chat.id)
    assert.deepEqual(
      stored.map((m) => m.content),
      ['before the crash'],
    )
    await assert.rejects(alice.api.request('GET', '/api/chats/NOPE'), (err) => err instanceof ApiError && err.status === 400)
  } finally {
    await server.stop()
  }
  assert.equal(existsSync(server.dataDir), false, 'stop removes the data directory')
})

test('Chromium reaches the server and screenshots land in test-artifacts', { timeout: 30_000 }, async () => {
  const server = await HeraldServer.start({ label: 'harness-browser' })
  const browser = await launchBrowser()
  try {
    const context = await newContext(browser, server)
    const page = await context.newPage()
    const res = await page.goto('/')
    assert.equal(res?.status(), 200)
    await page.locator('body').waitFor()
    await screenshot(page, 'harness-start-page')
    assert.ok(existsSync(path.join(ARTIFACTS_DIR, 'harness-start-page.png')))
  } finally {
    await browser.close()
    await server.stop()
  }
})

test('the web client runs under its Content-Security-Policy, which blocks an injected script', { timeout: 30_000 }, async () => {
  const server = await HeraldServer.start({ label: 'harness-csp' })
  const browser = await launchBrowser()
  try {
    const context = await newContext(browser, server)
    const page = await context.newPage()
    const res = await page.goto('/')
    const csp = res?.headers()['content-security-policy'] ?? ''
    for (const directive of ["script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
      assert.ok(csp.includes(directive), `CSP ${csp} lacks ${directive}`)
    }
    assert.equal(res?.headers()['x-frame-options'], 'DENY')
    await page.getByRole('button', { name: /sign in|create/i }).first().waitFor()
    assert.deepEqual(cspViolationsIn(context), [], 'the web client itself violates nothing')

    // What an injected <script> would do is refused, and the recorder sees it.
    const ran = await page.evaluate(() => {
      const script = document.createElement('script')
      script.textContent = 'window.heraldInjected = true'
      document.head.append(script)
      return Reflect.get(window, 'heraldInjected') === true
    })
    assert.equal(ran, false, 'an inline script ran')
    await waitUntil(() => cspViolationsIn(context).some((v) => v.startsWith('script-src-elem blocked inline')), {
      what: 'the blocked inline script to be reported',
    })
  } finally {
    await browser.close()
    await server.stop()
  }
})
