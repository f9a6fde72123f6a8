import type { Outbox, OutboxItem } from './types'

const STORE = 'outbox'
const BY_CREATED_AT = 'createdAt'
/** Bump when the object stores change, and migrate in upgrade(). */
const VERSION = 1

/**
 * The outbox in IndexedDB: one object store keyed by clientId with an index on createdAt. Every
 * tab of the origin sees the same items (tabs coordinate sending with a Web Lock, see
 * OutboxSender). Each method runs one transaction and resolves once it has committed, so an
 * item added before the POST survives a reload or a crash during it.
 *
 * The database opens on first use; a failed open is retried by the next call. When another tab
 * upgrades the database to a newer version, this connection closes itself so that the upgrade is
 * not blocked, and the next call reopens it (at the newer version, or failing with VersionError
 * if this page's code is older: reloading the page fixes that).
 */
export class IndexedDbOutbox implements Outbox {
  private readonly factory: IDBFactory | undefined
  private readonly dbName: string
  private db: Promise<IDBDatabase> | null = null

  /** factory defaults to the page's indexedDB (tests pass fake-indexeddb's); dbName to 'herald'. */
  constructor(factory?: IDBFactory, dbName = 'herald') {
    this.factory = factory
    this.dbName = dbName
  }

  /** Stores item, replacing any item with the same clientId (so re-adding clears its error). */
  async add(item: OutboxItem): Promise<void> {
    await this.run('readwrite', (store) => store.put(item))
  }

  async list(): Promise<OutboxItem[]> {
    // The index orders by createdAt, and items created in the same millisecond by clientId.
    const request = await this.run('readonly', (store) => store.index(BY_CREATED_AT).getAll())
    return request.result as OutboxItem[]
  }

  /** Deletes the item; no error if there is none. */
  async remove(clientId: string): Promise<void> {
    await this.run('readwrite', (store) => store.delete(clientId))
  }

  /** Sets the item's error; no error if there is no such item (it was sent or discarded). */
  async markFailed(clientId: string, error: string): Promise<void> {
    await this.run('readwrite', (store) => {
      const get = store.get(clientId)
      get.onsuccess = () => {
        const item = get.result as OutboxItem | undefined
        if (item) store.put({ ...item, error })
      }
      return get
    })
  }

  /**
   * Runs one transaction on the outbox store: operation issues the requests, and the returned
   * request is handed back once the transaction has committed. Rejects with the transaction's
   * error if it aborts.
   */
  private async run(
    mode: IDBTransactionMode,
    operation: (store: IDBObjectStore) => IDBRequest,
  ): Promise<IDBRequest> {
    const db = await this.open()
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode)
      const request = operation(tx.objectStore(STORE))
      tx.oncomplete = () => resolve(request)
      tx.onerror = () => reject(tx.error ?? new Error('outbox transaction failed'))
      tx.onabort = () => reject(tx.error ?? new Error('outbox transaction aborted'))
    })
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= this.connect().catch((err: unknown) => {
      this.db = null
      throw err
    })
    return this.db
  }

  private connect(): Promise<IDBDatabase> {
    return new Promise((resolve, reject) => {
      const request = (this.factory ?? indexedDB).open(this.dbName, VERSION)
      request.onupgradeneeded = () => upgrade(request.result)
      // No onblocked handler: "blocked" means another tab holds an older version open, and every
      // connection this class makes closes itself on versionchange (below), so the open goes on
      // as soon as that tab reacts. Until then the calls wait rather than fail.
      request.onerror = () => reject(request.error ?? new Error(`open IndexedDB ${this.dbName} failed`))
      request.onsuccess = () => {
        const db = request.result
        db.onversionchange = () => {
          db.close()
          this.db = null
        }
        // The browser closed it (storage cleared, disk error): reopen on the next call.
        db.onclose = () => {
          this.db = null
        }
        resolve(db)
      }
    })
  }
}

function upgrade(db: IDBDatabase): void {
  if (!db.objectStoreNames.contains(STORE)) {
    const store = db.createObjectStore(STORE, { keyPath: 'clientId' })
    store.createIndex(BY_CREATED_AT, 'createdAt')
  }
}
