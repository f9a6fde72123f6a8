package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
)

func putJSON(b bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	if err := b.Put([]byte(key), data); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// hashKey is the SHA-256 of a secret (session token, invite code): secrets are stored only so.
func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// concat joins key parts without a separator: ids are fixed-width ULIDs.
func concat(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// keysWithPrefix copies the keys of b that start with prefix, in order, so that the caller may
// delete or rewrite them without disturbing a cursor.
func keysWithPrefix(b readBucket, prefix []byte) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, slices.Clone(k))
	}
	return keys
}
