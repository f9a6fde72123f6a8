package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// allMessagesChunk is how many messages AllMessages reads in one read transaction.
const allMessagesChunk = 1000

// AllMessages calls fn with every message the store holds — top-level messages, replies and
// tombstones, chat by chat in id order — for the search index to rebuild from. fn runs outside
// any transaction, so it may take its time: the messages are read in chunks of
// allMessagesChunk, each in a read transaction of its own. A long-lived read transaction would
// keep bbolt from reusing the pages it sees, and so keep the old page versions of messages
// deleted meanwhile in the file beyond the commit that zeroes free pages.
//
// The chunks are no single snapshot: a message written or changed during the walk may be seen
// in its old state, its new one, or (posted after the walk passed its chat) not at all. The
// index takes the log's last event id before the walk and replays the events after it, which
// bring every such message to its state of the end.
//
// fn's error ends the walk and is returned; so is ctx's.
func (s *Store) AllMessages(ctx context.Context, fn func(*backend.Message) error) error {
	var after []byte // the last key handed to fn
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var chunk []*backend.Message
		err := s.view(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketMessages).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(chunk) < allMessagesChunk; k, v = c.Next() {
				m := new(backend.Message)
				if err := json.Unmarshal(v, m); err != nil {
					return fmt.Errorf("decode message %s: %w", k, err)
				}
				chunk = append(chunk, m)
				after = slices.Clone(k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read messages: %w", err)
		}
		for _, m := range chunk {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(chunk) < allMessagesChunk {
			return nil
		}
	}
}

// MessagesByID returns the messages that hits name, in one read transaction: out[i] is hits[i]'s
// message, nil when the chat holds no such message. It is what a page of search results costs
// the store.
func (s *Store) MessagesByID(ctx context.Context, hits []backend.SearchHit) ([]*backend.Message, error) {
	out := make([]*backend.Message, len(hits))
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketMessages)
		for i, h := range hits {
			v := b.Get(concat(h.ChatID, h.MessageID))
			if v == nil {
				continue
			}
			m := new(backend.Message)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("decode message %s: %w", h.MessageID, err)
			}
			out[i] = m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
