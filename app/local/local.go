// Package local is the desktop app's own bbolt file: the profile chosen on first run (host or
// join, the signed-in user's token), the last event id of the app's stream subscription, the
// outbox of messages written while the team server was unreachable, and a cache of recent API
// responses for reading offline.
//
// The file belongs to one running app: Open takes bbolt's exclusive file lock, so a second
// process on the same file gets ErrLocked. Every method is safe for concurrent use; bbolt
// serializes writers, and each write is its own transaction, durable when the method returns.
package local

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names.
var (
	bucketMeta       = []byte("meta")       // metaProfile → Profile JSON, metaLastEventID → id
	bucketOutbox     = []byte("outbox")     // seq (8 bytes, big endian) → outboxRecord JSON
	bucketOutboxKeys = []byte("outboxkeys") // outboxKey(chatID, clientID) → seq
	bucketCache      = []byte("cache")      // request key → cacheRecord JSON
	bucketCacheOrder = []byte("cacheorder") // store seq (8 bytes, big endian) → request key
	allBuckets       = [][]byte{bucketMeta, bucketOutbox, bucketOutboxKeys, bucketCache, bucketCacheOrder}

	metaProfile     = []byte("profile")
	metaLastEventID = []byte("lastEventId")
	metaSettings    = []byte("settings")
)

const (
	// LockTimeout is how long Open waits for another process to release the file before it
	// returns ErrLocked.
	LockTimeout = time.Second
	// MaxCachedBody is the default largest response body PutCached stores, in bytes.
	MaxCachedBody = 1 << 20
	// MaxCachedEntries is the default number of cached responses kept; storing one more evicts
	// the least recently stored.
	MaxCachedEntries = 500
)

// ErrLocked means another process holds the file open: the app is already running with this
// data directory.
var ErrLocked = errors.New("local store is locked by another process")

// Store is the desktop app's local bbolt file. It is safe for concurrent use.
type Store struct {
	db         *bbolt.DB
	maxBody    int
	maxEntries int
}

// Option configures a Store.
type Option func(*Store)

// WithMaxCachedEntries sets how many cached responses are kept (default MaxCachedEntries; at
// least 1).
func WithMaxCachedEntries(n int) Option { return func(s *Store) { s.maxEntries = max(1, n) } }

// WithMaxCachedBody sets the largest body PutCached stores, in bytes (default MaxCachedBody).
func WithMaxCachedBody(n int) Option { return func(s *Store) { s.maxBody = max(0, n) } }

// Open opens the file at path, creating it (mode 0600) and its parent directory (mode 0700) if
// needed. It waits at most LockTimeout for the file lock; when another process holds it, the
// error wraps both ErrLocked and bbolt's timeout error, so the caller can say "already running".
func Open(path string, opts ...Option) (*Store, error) {
	s := &Store{maxBody: MaxCachedBody, maxEntries: MaxCachedEntries}
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create directory of %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (%w)", path, ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialize %s: %w", path, err)
	}
	s.db = db
	return s, nil
}

// Close waits for running transactions to finish, closes the file and releases its lock. Calls
// after Close fail with bbolt's "database not open" error; a second Close returns nil.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close local store: %w", err)
	}
	return nil
}

// Mode is how the app reaches its team server.
type Mode string

const (
	ModeHost Mode = "host" // the team server runs inside the app
	ModeJoin Mode = "join" // the app signs in to a team server elsewhere
)

// Profile is the first run's choice and the signed-in user. It is stored as plain JSON in the
// file; the file's 0600 mode is what protects Token.
type Profile struct {
	Mode       Mode   `json:"mode"`
	HostAddr   string `json:"hostAddr,omitempty"`   // host mode: listen address, e.g. "0.0.0.0:8080"
	ServerURL  string `json:"serverUrl,omitempty"`  // join mode: the team server's base URL
	TeamName   string `json:"teamName,omitempty"`   // shown in the tray tooltip
	Username   string `json:"username,omitempty"`   // the signed-in user
	Token      string `json:"token,omitempty"`      // bearer token of the signed-in user; never leaves Go
	KeepInTray *bool  `json:"keepInTray,omitempty"` // closing the window hides it to the tray; nil = true
	// LANHost (host mode) is the address others reach the hosted server at, as the user chose it
	// (e.g. "192.168.1.20"); "" picks the address of the default route's interface.
	LANHost string `json:"lanHost,omitempty"`
	// Fingerprint is the SHA-256 fingerprint (tlscert.Fingerprint) of the team server's
	// certificate: in join mode the one the invite link carried, which the app pins (it accepts
	// that certificate and no other); in host mode the hosted server's own. "" in join mode
	// verifies the certificate as usual.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// HidesOnClose reports whether closing the window hides it to the tray (the default) rather than
// quitting.
func (p Profile) HidesOnClose() bool { return p.KeepInTray == nil || *p.KeepInTray }

func (p Profile) validate() error {
	switch p.Mode {
	case ModeHost:
	case ModeJoin:
		if strings.TrimSpace(p.ServerURL) == "" {
			return backend.Errorf(backend.EINVALID, "A profile that joins a team needs the server URL.")
		}
	default:
		return backend.Errorf(backend.EINVALID, "Profile mode must be %q or %q, not %q.", ModeHost, ModeJoin, p.Mode)
	}
	return nil
}

// Profile returns the saved profile; ok is false before the first run's choice (or after
// ClearProfile).
func (s *Store) Profile() (p Profile, ok bool, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(metaProfile)
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &p)
	})
	if err != nil {
		return Profile{}, false, fmt.Errorf("read profile: %w", err)
	}
	return p, ok, nil
}

// SaveProfile replaces the profile. The mode must be ModeHost or ModeJoin, and a join profile
// needs a ServerURL (EINVALID otherwise). It does not clear the cache or the outbox: call
// ClearCache when the team or user changes.
func (s *Store) SaveProfile(p Profile) error {
	if err := p.validate(); err != nil {
		return err
	}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	return s.update("save profile", func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaProfile, v)
	})
}

// ClearProfile deletes the profile and the last event id, so the next start shows the first-run
// chooser. The outbox and the cache stay; the caller clears what belongs to the old team.
func (s *Store) ClearProfile() error {
	return s.update("clear profile", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if err := b.Delete(metaProfile); err != nil {
			return err
		}
		return b.Delete(metaLastEventID)
	})
}

// Settings are the app's own settings that belong to no team: they outlive Change team
// (ClearProfile) and apply before the first run's choice.
type Settings struct {
	// LANAnnounce: a team hosted here is announced on the local network (mDNS); nil = true.
	LANAnnounce *bool `json:"lanAnnounce,omitempty"`
	// LANBrowse: the Join screen looks for teams on the local network (mDNS); nil = true.
	LANBrowse *bool `json:"lanBrowse,omitempty"`
}

// Announces reports whether a hosted team is announced on the local network (the default).
func (s Settings) Announces() bool { return s.LANAnnounce == nil || *s.LANAnnounce }

// Browses reports whether the Join screen looks for teams on the local network (the default).
func (s Settings) Browses() bool { return s.LANBrowse == nil || *s.LANBrowse }

// Settings returns the saved settings (the zero Settings, all defaults, when none are).
func (s *Store) Settings() (Settings, error) {
	var out Settings
	err := s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(metaSettings); v != nil {
			return json.Unmarshal(v, &out)
		}
		return nil
	})
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return out, nil
}

// SaveSettings replaces the settings.
func (s *Store) SaveSettings(st Settings) error {
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	return s.update("save settings", func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaSettings, v)
	})
}

// LastEventID returns the id of the last event the app's own stream subscription handled, or ""
// when there is none; a restart resumes from it instead of notifying again.
func (s *Store) LastEventID() (string, error) {
	var id string
	err := s.db.View(func(tx *bbolt.Tx) error {
		id = string(tx.Bucket(bucketMeta).Get(metaLastEventID))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read last event id: %w", err)
	}
	return id, nil
}

// SetLastEventID records id as the last handled event; "" forgets it. Each call is one fsync,
// so a caller on a busy stream may want to call it at most every few seconds.
func (s *Store) SetLastEventID(id string) error {
	return s.update("save last event id", func(tx *bbolt.Tx) error {
		if id == "" {
			return tx.Bucket(bucketMeta).Delete(metaLastEventID)
		}
		return tx.Bucket(bucketMeta).Put(metaLastEventID, []byte(id))
	})
}

// OutboxItem is a message written while the team server was unreachable.
type OutboxItem struct {
	Seq      uint64    `json:"seq"`      // position in the outbox; increases with every enqueue, never reused
	ChatID   string    `json:"chatId"`   // the chat to post to
	ClientID string    `json:"clientId"` // the post's idempotency key: resending it after a lost response is safe
	Content  string    `json:"content"`  // the message text
	QueuedAt time.Time `json:"queuedAt"` // when Enqueue was called
	// Owner names whose message it is (the app uses team and username); "" for anyone. The app
	// sends an item only while its owner is signed in, never as somebody else.
	Owner string `json:"owner,omitempty"`
	// ParentID and AlsoToChat make the message a reply in that thread (backend.Message).
	ParentID   string `json:"parentId,omitempty"`
	AlsoToChat bool   `json:"alsoToChat,omitempty"`
	// NotifyAnyway is sent with the post (backend.Message.NotifyAnyway).
	NotifyAnyway bool `json:"notifyAnyway,omitempty"`
}

// Enqueue appends a message to the outbox and returns it. It is idempotent per (chatID,
// clientID): while an item with that pair is queued, a second call returns it with added=false
// and leaves the outbox as is (even if content differs). chatID must be non-empty, clientID
// printable ASCII of 1 to backend.MaxClientIDLen bytes, and content non-blank UTF-8 of at most
// backend.MaxContentLen characters, as the server demands; otherwise the error is EINVALID.
func (s *Store) Enqueue(chatID, clientID, content string, now time.Time) (item OutboxItem, added bool, err error) {
	return s.EnqueueFor("", chatID, clientID, content, now)
}

// EnqueueFor is Enqueue of a message that belongs to owner (see OutboxItem.Owner).
func (s *Store) EnqueueFor(owner, chatID, clientID, content string, now time.Time) (item OutboxItem, added bool, err error) {
	return s.EnqueueItem(OutboxItem{Owner: owner, ChatID: chatID, ClientID: clientID, Content: content}, now)
}

// EnqueueItem is EnqueueFor of it's Owner, ChatID, ClientID, Content, thread (ParentID,
// AlsoToChat) and NotifyAnyway; Seq and QueuedAt are assigned.
func (s *Store) EnqueueItem(it OutboxItem, now time.Time) (item OutboxItem, added bool, err error) {
	owner, chatID, clientID, content := it.Owner, it.ChatID, it.ClientID, it.Content
	if err := validateOutgoing(chatID, clientID, content); err != nil {
		return OutboxItem{}, false, err
	}
	ikey := outboxKey(chatID, clientID)
	err = s.update("enqueue message", func(tx *bbolt.Tx) error {
		keys, items := tx.Bucket(bucketOutboxKeys), tx.Bucket(bucketOutbox)
		if seq := keys.Get(ikey); seq != nil {
			v := items.Get(seq)
			if v == nil {
				return fmt.Errorf("outbox index names missing item %d", binary.BigEndian.Uint64(seq))
			}
			return json.Unmarshal(v, &item)
		}
		seq, err := items.NextSequence()
		if err != nil {
			return err
		}
		item = OutboxItem{Seq: seq, ChatID: chatID, ClientID: clientID, Content: content, QueuedAt: now.Round(0), Owner: owner,
			ParentID: it.ParentID, AlsoToChat: it.ParentID != "" && it.AlsoToChat, NotifyAnyway: it.NotifyAnyway}
		v, err := json.Marshal(item)
		if err != nil {
			return err
		}
		if err := items.Put(u64(seq), v); err != nil {
			return err
		}
		added = true
		return keys.Put(ikey, u64(seq))
	})
	if err != nil {
		return OutboxItem{}, false, err
	}
	return item, added, nil
}

func validateOutgoing(chatID, clientID, content string) error {
	if chatID == "" {
		return backend.Errorf(backend.EINVALID, "chatId must not be empty.")
	}
	if clientID == "" || len(clientID) > backend.MaxClientIDLen {
		return backend.Errorf(backend.EINVALID, "clientId must be 1 to %d bytes.", backend.MaxClientIDLen)
	}
	for _, c := range clientID {
		if c < 0x21 || c > 0x7e {
			return backend.Errorf(backend.EINVALID, "clientId must be printable ASCII without spaces.")
		}
	}
	if !utf8.ValidString(content) {
		return backend.Errorf(backend.EINVALID, "content must be valid UTF-8.")
	}
	if strings.TrimSpace(content) == "" {
		return backend.Errorf(backend.EINVALID, "content must not be empty.")
	}
	if n := utf8.RuneCountInString(content); n > backend.MaxContentLen {
		return backend.Errorf(backend.EINVALID, "content is %d characters; the limit is %d.", n, backend.MaxContentLen)
	}
	for _, c := range content {
		if unicode.IsControl(c) && c != '\n' && c != '\t' && c != '\r' {
			return backend.Errorf(backend.EINVALID, "content must not contain control characters.")
		}
	}
	return nil
}

// Outbox returns the queued messages, oldest first (ascending Seq). The sender posts them in
// this order and removes each one once the server has accepted it.
func (s *Store) Outbox() ([]OutboxItem, error) {
	var out []OutboxItem
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var it OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("decode outbox item %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, it)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// RemoveFromOutbox deletes the item with seq, once the server has accepted it (or rejected it for
// good). Removing an item that is already gone is not an error. Afterwards the same (chatID,
// clientID) may be enqueued again as a new item.
func (s *Store) RemoveFromOutbox(seq uint64) error {
	return s.update("remove from outbox", func(tx *bbolt.Tx) error {
		items := tx.Bucket(bucketOutbox)
		k := u64(seq)
		v := items.Get(k)
		if v == nil {
			return nil
		}
		var it OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("decode outbox item %d: %w", seq, err)
		}
		if err := tx.Bucket(bucketOutboxKeys).Delete(outboxKey(it.ChatID, it.ClientID)); err != nil {
			return err
		}
		return items.Delete(k)
	})
}

// OutboxLen returns how many messages are queued.
func (s *Store) OutboxLen() (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// Cached is a stored GET response of the API.
type Cached struct {
	Body        []byte    `json:"body"`
	ContentType string    `json:"contentType,omitempty"`
	StoredAt    time.Time `json:"storedAt"` // when the response was received; set by the caller
}

// cacheRecord is a Cached as stored, with its position in the eviction order.
type cacheRecord struct {
	Cached
	Order uint64 `json:"order"`
}

// PutCached stores c under key (the request's path and query, e.g.
// "/api/chats/X/messages?limit=50"), replacing an earlier response. A body over the size limit
// (MaxCachedBody bytes by default) is not stored and PutCached returns nil; any earlier response
// under key is removed then, so a stale copy is not served. When the cache holds more than its
// entry limit (MaxCachedEntries by default), the least recently stored responses are evicted.
// An empty key, or one longer than bbolt's key limit, is EINVALID.
func (s *Store) PutCached(key string, c Cached) error {
	if err := validCacheKey(key); err != nil {
		return err
	}
	tooLarge := len(c.Body) > s.maxBody
	return s.update("cache response", func(tx *bbolt.Tx) error {
		cache, order := tx.Bucket(bucketCache), tx.Bucket(bucketCacheOrder)
		if old := cache.Get([]byte(key)); old != nil {
			var rec cacheRecord
			if err := json.Unmarshal(old, &rec); err != nil {
				return fmt.Errorf("decode cached %q: %w", key, err)
			}
			if err := order.Delete(u64(rec.Order)); err != nil {
				return err
			}
			if err := cache.Delete([]byte(key)); err != nil {
				return err
			}
		}
		if tooLarge {
			return nil
		}
		seq, err := order.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(cacheRecord{Cached: c, Order: seq})
		if err != nil {
			return err
		}
		if err := cache.Put([]byte(key), v); err != nil {
			return err
		}
		if err := order.Put(u64(seq), []byte(key)); err != nil {
			return err
		}
		return s.evict(cache, order)
	})
}

// evict deletes the oldest entries while the cache holds more than maxEntries.
func (s *Store) evict(cache, order *bbolt.Bucket) error {
	n := 0
	c := order.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	for ; n > s.maxEntries; n-- {
		_, key := c.First()
		if err := cache.Delete(key); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Cached returns the response stored under key; ok is false when there is none.
func (s *Store) Cached(key string) (c Cached, ok bool, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCache).Get([]byte(key))
		if v == nil {
			return nil
		}
		var rec cacheRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		c, ok = rec.Cached, true
		return nil
	})
	if err != nil {
		return Cached{}, false, fmt.Errorf("read cached %q: %w", key, err)
	}
	return c, ok, nil
}

// ClearCache deletes every cached response; call it when the profile changes so one team's or
// user's history is not shown to another.
func (s *Store) ClearCache() error {
	return s.update("clear cache", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketCache, bucketCacheOrder} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func validCacheKey(key string) error {
	if key == "" || len(key) > bbolt.MaxKeySize {
		return backend.Errorf(backend.EINVALID, "A cache key must be 1 to %d bytes.", bbolt.MaxKeySize)
	}
	return nil
}

// update runs fn in one write transaction and adds what to the error.
func (s *Store) update(what string, fn func(tx *bbolt.Tx) error) error {
	if err := s.db.Update(fn); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// outboxKey is the index key of (chatID, clientID): chatID's length, chatID, clientID, so no
// two pairs share a key whatever bytes they hold.
func outboxKey(chatID, clientID string) []byte {
	k := binary.AppendUvarint(nil, uint64(len(chatID)))
	return append(append(k, chatID...), clientID...)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
