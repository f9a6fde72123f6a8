package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
)

// contents lists the chat's messages on the server, oldest first.
func contents(t *testing.T, c *client.Client, chatID string) []string {
	t.Helper()
	msgs, _, err := c.Messages(context.Background(), chatID, backend.MessagePage{Limit: backend.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Content)
	}
	return out
}

// anyone is the owner of the test's messages (they are enqueued without one).
func anyone() string { return "test|alice" }

func posterFor(c *client.Client) func(context.Context, local.OutboxItem) error {
	return func(ctx context.Context, it local.OutboxItem) error { return sendQueued(ctx, c, it) }
}

func TestOutboxSendsInOrderExactlyOnceAcrossOutageAndRestart(t *testing.T) {
	server := newTeamServer(t)
	alice, _, chatID := server.team(t)
	c, err := client.New(server.URL, alice.Token)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.db")
	st, err := local.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	server.Stop()

	// Written while the server is down; the first one's answer was lost after the server stored
	// it (posted directly below, once it is back): the outbox must not post it twice.
	now := time.Now()
	for i := range 3 {
		if _, _, err := st.Enqueue(chatID, fmt.Sprintf("k%d", i), fmt.Sprintf("offline %d", i), now); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	attempts := make(chan error, 64)
	post := posterFor(c)
	s := newOutboxSender(st, func(ctx context.Context, it local.OutboxItem) error {
		err := post(ctx, it)
		attempts <- err
		return err
	}, anyone, quietLog())
	s.Start(ctx)
	if err := <-attempts; !client.Retryable(err) {
		t.Fatalf("first attempt with the server down: %v, want a retryable error", err)
	}
	if n, _ := st.OutboxLen(); n != 3 {
		t.Fatalf("outbox holds %d after a failed send, want 3", n)
	}

	// The app quits with everything still queued and starts again later.
	cancel()
	s.Wait()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	server.Start()
	if _, err := c.PostMessage(context.Background(), chatID, "offline 0", "k0"); err != nil {
		t.Fatal(err)
	}
	st, err = local.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.Enqueue(chatID, "k3", "after restart", now); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	s = newOutboxSender(st, post, anyone, quietLog())
	s.Start(ctx)
	s.Wake()
	waitFor(t, "the outbox to empty", func() bool { n, _ := st.OutboxLen(); return n == 0 })
	want := []string{"offline 0", "offline 1", "offline 2", "after restart"}
	if got := contents(t, c, chatID); !slices.Equal(got, want) {
		t.Fatalf("the chat holds %q, want %q (in order, once each)", got, want)
	}
}

func TestOutboxDropsWhatTheServerRefuses(t *testing.T) {
	server := newTeamServer(t)
	alice, _, chatID := server.team(t)
	c, _ := client.New(server.URL, alice.Token)
	st := openLocal(t)
	unknownChat := "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	for i, chat := range []string{chatID, unknownChat, chatID} {
		if _, _, err := st.Enqueue(chat, fmt.Sprint("k", i), fmt.Sprint("m", i), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	rejected := make(chan local.OutboxItem, 1)
	s := newOutboxSender(st, posterFor(c), anyone, quietLog())
	s.OnRejected = func(it local.OutboxItem, err error) { rejected <- it }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	if it := <-rejected; it.ChatID != unknownChat {
		t.Fatalf("rejected %+v", it)
	}
	waitFor(t, "the outbox to empty", func() bool { n, _ := st.OutboxLen(); return n == 0 })
	if got := contents(t, c, chatID); !slices.Equal(got, []string{"m0", "m2"}) {
		t.Fatalf("the chat holds %q", got)
	}
}

func TestOnlyAFinalRefusalDropsAQueuedMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"invalid", &client.APIError{Status: 400, Code: "invalid"}, true},
		{"not a member", &client.APIError{Status: 403, Code: "forbidden"}, true},
		{"chat gone", &client.APIError{Status: 404, Code: "not_found"}, true},
		{"session ended: waits for the next sign-in", &client.APIError{Status: 401, Code: "unauthorized"}, false},
		{"rate limited", &client.APIError{Status: 429, Code: "rate_limited"}, false},
		{"server error", &client.APIError{Status: 503, Code: "unavailable"}, false},
		{"a captive portal's redirect", &client.APIError{Status: 302}, false},
		{"a proxy's HTML 403", &client.APIError{Status: 403}, false},
		{"no answer", &client.NetworkError{Op: "post", Err: errors.New("connection refused")}, false},
		{"not signed in", errNotSignedIn, false},
		{"an answer that is not the API's", errors.New("herald: post: the answer is not the expected JSON"), false},
	}
	for _, tt := range tests {
		if got := refused(tt.err); got != tt.want {
			t.Errorf("%s: refused = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestOutboxSendsOnlyTheSignedInUsersMessages(t *testing.T) {
	st := openLocal(t)
	now := time.Now()
	chat := "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	for i, owner := range []string{"team|alice", "team|bob", "team|alice", "team|bob"} {
		if _, _, err := st.EnqueueFor(owner, chat, fmt.Sprint("k", i), fmt.Sprintf("%s %d", owner, i), now); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var sent []string
	current := "team|alice"
	s := newOutboxSender(st, func(_ context.Context, it local.OutboxItem) error {
		mu.Lock()
		defer mu.Unlock()
		if it.Owner != current {
			t.Errorf("sent %q of %s while %s is signed in", it.Content, it.Owner, current)
		}
		sent = append(sent, it.Content)
		return nil
	}, func() string { mu.Lock(); defer mu.Unlock(); return current }, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	waitFor(t, "alice's messages to go", func() bool { n, _ := st.OutboxLen(); return n == 2 })
	mu.Lock()
	current = "team|bob" // bob signs in on this computer
	mu.Unlock()
	s.Wake()
	waitFor(t, "bob's messages to go", func() bool { n, _ := st.OutboxLen(); return n == 0 })
	mu.Lock()
	defer mu.Unlock()
	want := []string{"team|alice 0", "team|alice 2", "team|bob 1", "team|bob 3"}
	if !slices.Equal(sent, want) {
		t.Fatalf("sent %q, want %q", sent, want)
	}
}

// A reply written offline stays a reply: the proxy queues its thread with it and the sender
// posts it into that thread (also to the chat when asked), not as a new top-level message.
func TestOfflineReplyIsSentIntoItsThread(t *testing.T) {
	server := newTeamServer(t)
	alice, bob, chatID := server.team(t)
	var parent struct{ Message backend.Message }
	call(t, server.URL, "POST", "/api/chats/"+chatID+"/messages", alice.Token, map[string]string{"content": "shall we ship?"}, &parent)
	st := openLocal(t)
	session := newMemorySession(bob.Token)
	p := NewAPIProxy(session, st, st, nil, quietLog())
	u, _ := url.Parse(server.URL)
	p.SetUpstream(u)
	front := httptest.NewServer(p)
	defer front.Close()
	server.Stop()

	for i, also := range []bool{false, true} {
		var answer struct {
			Queued  bool           `json:"queued"`
			Message map[string]any `json:"message"`
		}
		body := map[string]any{"content": fmt.Sprintf("reply %d", i), "clientId": fmt.Sprintf("r%d", i), "parentId": parent.Message.ID, "alsoToChat": also}
		resp := call(t, front.URL, "POST", "/api/chats/"+chatID+"/messages", "", body, &answer)
		if resp.StatusCode != http.StatusAccepted || answer.Message["parentId"] != parent.Message.ID || answer.Message["alsoToChat"] != also {
			t.Fatalf("offline reply %d: %d %+v", i, resp.StatusCode, answer)
		}
	}
	server.Start()
	c, err := client.New(server.URL, bob.Token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newOutboxSender(st, posterFor(c), session.Owner, quietLog())
	s.Start(ctx)
	s.Wake()
	waitFor(t, "the outbox to empty", func() bool { n, _ := st.OutboxLen(); return n == 0 })
	var thread struct{ Messages []backend.Message }
	call(t, server.URL, "GET", "/api/chats/"+chatID+"/messages/"+parent.Message.ID+"/replies", bob.Token, nil, &thread)
	if len(thread.Messages) != 2 || thread.Messages[0].Content != "reply 0" || thread.Messages[1].AlsoToChat != true {
		t.Fatalf("the thread holds %+v, want both replies", thread.Messages)
	}
	if got := contents(t, c, chatID); !slices.Equal(got, []string{"shall we ship?", "reply 1"}) {
		t.Fatalf("the chat's history holds %q, want the parent and the reply sent also to the chat", got)
	}
}
