import { describe, expect, it } from 'vitest'
import {
  dataCacheName,
  gatewayFailure,
  obsoleteCaches,
  routeOf,
  shellCacheName,
  shellPaths,
  userIdIn,
  type Route,
} from './policy'

const ORIGIN = 'https://chat.example'
const SHELL = new Set(shellPaths(['index.html', 'assets/index-1a2b.js', 'assets/index-3c4d.css', 'sw.js', '.gitkeep']))

function kind(method: string, path: string, mode = 'cors', origin = ORIGIN): Route['kind'] {
  return routeOf({ method, url: origin + path, mode }, ORIGIN, SHELL).kind
}

describe('routeOf', () => {
  it.each<[string, string, string, Route['kind']]>([
    // The shell: pages network first, the build's files cache first.
    ['GET', '/', 'navigate', 'navigate'],
    ['GET', '/chats/01JD?m=1', 'navigate', 'navigate'],
    ['GET', '/assets/index-1a2b.js', 'cors', 'shell-file'],
    ['GET', '/assets/index-3c4d.css', 'no-cors', 'shell-file'],
    ['GET', '/assets/old-build-9z9z.js', 'cors', 'pass'],
    ['GET', '/sw.js', 'same-origin', 'pass'],
    // What the user viewed: network first, their own saved copy offline.
    ['GET', '/api/server', 'cors', 'server-info'],
    ['GET', '/api/me', 'cors', 'me'],
    ['GET', '/api/chats', 'cors', 'user-data'],
    ['GET', '/api/users', 'cors', 'user-data'],
    ['GET', '/api/chats/01JD/messages?limit=50', 'cors', 'user-data'],
    ['GET', '/api/chats/01JD/messages?before=01JE&limit=50', 'cors', 'user-data'],
    // Never cached: the stream, anything not safe to show stale, anything that changes state.
    ['GET', '/api/stream', 'cors', 'pass'],
    ['GET', '/api/stream?lastEventId=01JD', 'cors', 'pass'],
    ['GET', '/api/search?q=x', 'cors', 'pass'],
    ['GET', '/api/notifications', 'cors', 'pass'],
    ['GET', '/api/files/01JD', 'navigate', 'pass'],
    ['GET', '/api/chats/01JD/pins', 'cors', 'pass'],
    ['GET', '/api/chats/01JD/messages/01JE/replies', 'cors', 'pass'],
    ['POST', '/api/chats/01JD/messages', 'cors', 'pass'],
    ['PUT', '/api/preferences', 'cors', 'pass'],
    ['DELETE', '/api/chats/01JD/messages/01JE', 'cors', 'pass'],
    // Watched, to know whose copies to keep and when to delete them.
    ['POST', '/api/auth/login', 'cors', 'signed-in'],
    ['POST', '/api/auth/register', 'cors', 'signed-in'],
    ['POST', '/api/auth/logout', 'cors', 'signed-out'],
  ])('%s %s (%s) → %s', (method, path, mode, want) => {
    expect(kind(method, path, mode)).toBe(want)
  })

  it('never answers a no-store request (a probe of the server) with a saved copy', () => {
    for (const path of ['/api/chats', '/api/chats/01JD/messages?after=01JE', '/api/me', '/api/server']) {
      expect(routeOf({ method: 'GET', url: ORIGIN + path, mode: 'cors', cache: 'no-store' }, ORIGIN, SHELL).kind).toBe('pass')
    }
    expect(routeOf({ method: 'GET', url: ORIGIN + '/api/chats', mode: 'cors', cache: 'default' }, ORIGIN, SHELL).kind).toBe('user-data')
  })

  it('leaves other origins alone', () => {
    expect(kind('GET', '/api/chats', 'cors', 'https://elsewhere.example')).toBe('pass')
    expect(kind('GET', '/', 'navigate', 'https://elsewhere.example')).toBe('pass')
  })
})

describe('caches', () => {
  it('names a shell cache per build and a data cache per user', () => {
    expect(shellCacheName('abc')).toBe('herald-shell-abc')
    expect(dataCacheName('01JD')).toBe('herald-data-v1-01JD')
    expect(dataCacheName('a/b')).not.toContain('/')
  })

  it('deletes other builds’ shells and other layouts’ caches on activate, keeping users’ copies', () => {
    const names = [
      'herald-shell-old',
      'herald-shell-new',
      'herald-data-v1-u1',
      'herald-data-v0-u1',
      'herald-meta-v1',
      'herald-meta-v0',
      'someone-elses-cache',
    ]
    expect(obsoleteCaches(names, 'new')).toEqual(['herald-shell-old', 'herald-data-v0-u1', 'herald-meta-v0'])
  })

  it('holds every file of the build but the worker and dotfiles', () => {
    expect([...SHELL].sort()).toEqual(['/assets/index-1a2b.js', '/assets/index-3c4d.css', '/index.html'])
  })
})

describe('answers', () => {
  it('takes 502, 503 and 504 for a server that cannot be reached', () => {
    expect([500, 502, 503, 504, 404, 200].map(gatewayFailure)).toEqual([false, true, true, true, false, false])
  })

  it('finds the user id in /api/me and sign-in answers', () => {
    expect(userIdIn({ user: { id: 'u1', username: 'alice' } })).toBe('u1')
    expect(userIdIn({ user: { id: 'u1' }, token: 't' })).toBe('u1')
    expect(userIdIn({ user: { id: '' } })).toBeUndefined()
    expect(userIdIn({ error: { code: 'unauthorized' } })).toBeUndefined()
    expect(userIdIn(null)).toBeUndefined()
    expect(userIdIn('u1')).toBeUndefined()
  })
})
