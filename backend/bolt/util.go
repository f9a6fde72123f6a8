package bolt

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

func putJSON(b *bbolt.Bucket, key string, v any) error {
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
