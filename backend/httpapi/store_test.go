package httpapi_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/httpapi"
)

// postCounter is a StoreWriter that hands every change to another, as a node that forwards its
// writes would, and counts the posts it forwarded. It has none of the store's optional abilities.
type postCounter struct {
	httpapi.StoreWriter
	posts atomic.Int64
}

func (w *postCounter) PostMessage(ctx context.Context, m *backend.Message) (*backend.Message, bool, error) {
	w.posts.Add(1)
	return w.StoreWriter.PostMessage(ctx, m)
}

// Reads and Writes may be different values, each with only its interface: posts go through
// Writes, the stream and the history read what they committed.
func TestSeparateReadsAndWrites(t *testing.T) {
	writes := &postCounter{}
	ts := newTestServer(t, serverOptions{tune: func(c *httpapi.Config) {
		store := c.Reads.(*bolt.Store)
		c.Reads = struct{ httpapi.StoreReader }{store}
		writes.StoreWriter = store
		c.Writes = writes
		c.Uploads = store // no longer found on Writes
	}})
	tm := ts.team(t)
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	id := ts.post(t, tm.alice, tm.chat, "through the writer")
	if got := bob.nextOfType(t, "NEW_MESSAGE", wait); got.ID != id {
		t.Fatalf("bob's stream: NEW_MESSAGE %s, want %s", got.ID, id)
	}
	if page := ts.list(t, tm.bob, "/api/chats/"+tm.chat+"/messages"); page.byID(id) == nil {
		t.Fatalf("history %v lacks %s", page.ids(), id)
	}
	if n := writes.posts.Load(); n != 1 {
		t.Fatalf("%d posts went through Writes, want 1", n)
	}
}
