package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

func (s *Store) Preferences(ctx context.Context, userID string) (backend.Preferences, error) {
	p := backend.DefaultPreferences()
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketPrefs).Get([]byte(userID))
		if v == nil {
			return nil
		}
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("decode preferences of %s: %w", userID, err)
		}
		return nil
	})
	return p, err
}

func (s *Store) SetPreferences(ctx context.Context, userID string, p backend.Preferences) error {
	return s.update(ctx, func(t *txn) error {
		if t.Bucket(bucketUsers).Get([]byte(userID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "User not found.")
		}
		if err := putJSON(t.Bucket(bucketPrefs), userID, p); err != nil {
			return err
		}
		cached := p
		t.cache.prefs[userID] = &cached
		snapshot := p
		return t.emit(&backend.Event{Type: backend.EventPreferencesChanged, Preferences: &snapshot,
			Personal: true, Recipients: []string{userID}})
	})
}
