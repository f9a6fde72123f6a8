package bolt

import (
	"errors"
	"fmt"
	"strconv"

	bbolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout of the file this code writes, kept in bucketMeta under keySchema.
//
//   - 1: every file written before schema versions existed (it has no keySchema). Open migrates
//     it: it builds the indexes that older files may lack (sessions by user, chat timelines,
//     chat names) and records version 2.
//   - 2: the event log without a per-stream index. Open migrates it: it builds
//     bucketScopeEvents from the log and records version 3.
//   - 3: today's layout.
//
// A new file gets SchemaVersion. A file of a newer version than this is refused
// (ErrSchemaTooNew) before anything is written to it: an older server must not write a layout
// it does not know. To change the layout, raise SchemaVersion and append a migration.
const SchemaVersion = 3

// keySchema is where bucketMeta keeps the schema version (decimal ASCII).
var keySchema = []byte("schemaVersion")

// ErrSchemaTooNew: the file was written by a newer Herald than this one. Upgrade, or restore a
// backup taken before the upgrade.
var ErrSchemaTooNew = errors.New("the store was written by a newer version of Herald")

// migration brings a file from version to-1 to version to, inside Open's transaction.
type migration struct {
	to   int
	what string
	run  func(*bbolt.Tx) error
}

// migrations, in order. Each runs once per file: Open runs those above the file's version in
// one write transaction, so a crash leaves the file at its old version.
var migrations = []migration{
	{to: 2, what: "index sessions by user, chat timelines and chat names where missing", run: migrateToV2},
	{to: 3, what: "index the event log by stream", run: indexScopeEvents},
}

// migrateToV2 builds the indexes that files written before them lack. Files of release 1 that
// already have them are left as they are.
func migrateToV2(tx *bbolt.Tx) error {
	if tx.Bucket(bucketSessions) != nil && tx.Bucket(bucketUserSessions) == nil {
		if err := indexSessions(tx); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketMessages) != nil && tx.Bucket(bucketTimeline) == nil {
		if err := indexTimeline(tx); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketChats) != nil && tx.Bucket(bucketChatNames) == nil {
		if err := indexChatNames(tx); err != nil {
			return err
		}
	}
	return nil
}

// fileVersion is the schema version of the file tx reads: 0 for a new file (no buckets at all),
// 1 for a file without keySchema.
func fileVersion(tx *bbolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
		if empty {
			return 0, nil
		}
		return 1, nil
	}
	v := meta.Get(keySchema)
	if v == nil {
		return 1, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("schema version %q is damaged", v)
	}
	return n, nil
}

// checkVersion refuses a file newer than this code.
func checkVersion(path string, v int) error {
	if v > SchemaVersion {
		return fmt.Errorf("%s has schema version %d and this Herald reads up to %d: run a newer Herald, or restore a backup taken before the upgrade: %w",
			path, v, SchemaVersion, ErrSchemaTooNew)
	}
	return nil
}

// migrate brings the file tx writes to SchemaVersion and records it. It returns the version the
// file had (0: new).
func migrate(tx *bbolt.Tx, path string) (int, error) {
	v, err := fileVersion(tx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkVersion(path, v); err != nil {
		return v, err
	}
	if v > 0 {
		for _, m := range migrations {
			if m.to <= v {
				continue
			}
			if err := m.run(tx); err != nil {
				return v, fmt.Errorf("migrate to schema version %d (%s): %w", m.to, m.what, err)
			}
		}
	}
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return v, fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	if v != SchemaVersion {
		if err := tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return v, fmt.Errorf("record schema version: %w", err)
		}
	}
	return v, nil
}
