package bolt

import (
	"context"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/backend"
)

// CreateDM looks the set of people up in bucketDMs and creates their DM only when it holds none,
// in the same write transaction: the committer runs writes one after the other, so of two
// requests for the same people the second finds the first one's DM.
func (s *Store) CreateDM(ctx context.Context, creatorID string, userIDs []string) (*backend.Chat, bool, error) {
	var (
		chat    *backend.Chat
		created bool
	)
	err := s.update(ctx, func(t *txn) error {
		chat, created = nil, false
		members := []string{creatorID}
		for _, id := range userIDs {
			if !slices.Contains(members, id) {
				members = append(members, id)
			}
		}
		if len(members) < 2 || len(members) > backend.MaxDMMembers {
			return backend.Errorf(backend.EINVALID, "A direct message is between 2 and %d people, you included.", backend.MaxDMMembers)
		}
		for _, id := range members {
			if t.Bucket(bucketUsers).Get([]byte(id)) == nil {
				return backend.Errorf(backend.ENOTFOUND, "User %s not found.", id)
			}
		}
		key := []byte(backend.DMKey(members))
		if id := t.Bucket(bucketDMs).Get(key); id != nil {
			c, err := getChat(t.Tx, string(id))
			if err != nil {
				return fmt.Errorf("dm of %s: %w", key, err)
			}
			if err := t.Bucket(bucketHidden).Delete(concat(creatorID, c.ID)); err != nil {
				return fmt.Errorf("show chat: %w", err)
			}
			chat = c
			return nil
		}
		// A DM that exists stays reachable with someone deactivated since; a new one may not start.
		for _, id := range members {
			if err := addableUser(t.Tx, id); err != nil {
				return err
			}
		}
		c := &backend.Chat{ID: t.newID(), Kind: backend.ChatDM, MemberIDs: members, OwnerIDs: []string{},
			CreatedBy: creatorID, CreatedAt: t.now.UnixMilli()}
		if err := putChat(t, c); err != nil {
			return err
		}
		if err := t.Bucket(bucketDMs).Put(key, []byte(c.ID)); err != nil {
			return fmt.Errorf("index dm: %w", err)
		}
		for _, id := range members {
			if err := t.Bucket(bucketMembers).Put(concat(id, c.ID), nil); err != nil {
				return fmt.Errorf("add member: %w", err)
			}
		}
		chat, created = c, true
		return t.emit(chatUpdated(c))
	})
	if err != nil {
		return nil, false, err
	}
	return chat, created, nil
}
