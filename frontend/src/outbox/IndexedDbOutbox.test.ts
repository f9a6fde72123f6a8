import { IDBFactory } from 'fake-indexeddb'
import { beforeEach, describe, expect, it } from 'vitest'
import { IndexedDbOutbox } from './IndexedDbOutbox'
import type { OutboxItem } from './types'

function item(clientId: string, createdAt: number, chatId = 'c1'): OutboxItem {
  return { clientId, chatId, content: `message ${clientId}`, createdAt }
}

describe('IndexedDbOutbox', () => {
  let factory: IDBFactory
  let outbox: IndexedDbOutbox

  beforeEach(() => {
    factory = new IDBFactory()
    outbox = new IndexedDbOutbox(factory)
  })

  it('is empty at first', async () => {
    await expect(outbox.list()).resolves.toEqual([])
  })

  it('lists items oldest first, whatever the order they were added in', async () => {
    await outbox.add(item('b', 2000))
    await outbox.add(item('c', 3000, 'c2'))
    await outbox.add(item('a', 1000))

    const items = await outbox.list()

    expect(items.map((i) => i.clientId)).toEqual(['a', 'b', 'c'])
    expect(items[2]).toEqual(item('c', 3000, 'c2'))
  })

  it('orders items of the same millisecond by clientId', async () => {
    await outbox.add(item('y', 1000))
    await outbox.add(item('x', 1000))

    expect((await outbox.list()).map((i) => i.clientId)).toEqual(['x', 'y'])
  })

  it('removes an item by clientId, and removing a missing one is no error', async () => {
    await outbox.add(item('a', 1000))
    await outbox.add(item('b', 2000))

    await outbox.remove('a')
    await outbox.remove('nope')

    expect((await outbox.list()).map((i) => i.clientId)).toEqual(['b'])
  })

  it('marks an item failed, and adding it again clears the error', async () => {
    await outbox.add(item('a', 1000))

    const error = 'You are not a member of this chat.'
    await outbox.markFailed('a', error)
    expect(await outbox.list()).toEqual([{ ...item('a', 1000), error }])

    await outbox.add(item('a', 1000))
    expect(await outbox.list()).toEqual([item('a', 1000)])
  })

  it('ignores markFailed for an item that is gone', async () => {
    await outbox.markFailed('gone', 'whatever')

    await expect(outbox.list()).resolves.toEqual([])
  })

  it('keeps items across a reload (a new instance on the same database)', async () => {
    await outbox.add(item('a', 1000))
    await outbox.add(item('b', 2000))
    await outbox.markFailed('b', 'Too large.')

    const reloaded = new IndexedDbOutbox(factory)

    expect(await reloaded.list()).toEqual([item('a', 1000), { ...item('b', 2000), error: 'Too large.' }])
  })

  it('keeps databases of different names apart', async () => {
    await outbox.add(item('a', 1000))

    await expect(new IndexedDbOutbox(factory, 'other').list()).resolves.toEqual([])
  })

  it('does not block another tab that upgrades the database', async () => {
    await outbox.add(item('a', 1000))

    const upgraded = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open('herald', 2)
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error ?? new Error('open failed'))
      request.onblocked = () => reject(new Error('blocked by the open outbox'))
    })

    // The newer page owns the database now; this (older) page cannot reopen it at version 1.
    expect(upgraded.version).toBe(2)
    await expect(outbox.list()).rejects.toMatchObject({ name: 'VersionError' })
    upgraded.close()
  })

  it('retries a failed open on the next call', async () => {
    const newer = await new Promise<IDBDatabase>((resolve) => {
      const request = factory.open('herald', 2)
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore('outbox', { keyPath: 'clientId' })
        store.createIndex('createdAt', 'createdAt')
      }
      request.onsuccess = () => resolve(request.result)
    })
    await expect(outbox.list()).rejects.toMatchObject({ name: 'VersionError' })
    newer.close()
    factory.deleteDatabase('herald')

    await outbox.add(item('a', 1000))

    expect(await outbox.list()).toEqual([item('a', 1000)])
  })
})
