package local_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
)

func openStore(t testing.TB, path string, opts ...local.Option) *local.Store {
	t.Helper()
	s, err := local.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func tempPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "data", "herald-app.db")
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	openStore(t, path)
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", p, got, want)
		}
	}
}

func TestProfileRoundTripAndClear(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := openStore(t, path)
	if _, ok, err := s.Profile(); err != nil || ok {
		t.Fatalf("Profile() before first run = ok %v, err %v; want no profile", ok, err)
	}
	no := false
	want := local.Profile{Mode: local.ModeJoin, ServerURL: "http://10.0.0.2:8080", TeamName: "Ops",
		Username: "ann", Token: "secret", KeepInTray: &no}
	if err := s.SaveProfile(want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	got, ok, err := s.Profile()
	if err != nil || !ok {
		t.Fatalf("Profile() after reopen: ok %v, err %v", ok, err)
	}
	if got.Mode != want.Mode || got.ServerURL != want.ServerURL || got.TeamName != want.TeamName ||
		got.Username != want.Username || got.Token != want.Token || got.KeepInTray == nil || *got.KeepInTray {
		t.Errorf("Profile() = %+v, want %+v", got, want)
	}
	if got.HidesOnClose() {
		t.Error("HidesOnClose() = true with KeepInTray=false")
	}
	if err := s.ClearProfile(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Profile(); err != nil || ok {
		t.Fatalf("Profile() after ClearProfile = ok %v, err %v; want no profile", ok, err)
	}
}

func TestHidesOnClose(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	for _, tc := range []struct {
		keep *bool
		want bool
	}{{nil, true}, {&yes, true}, {&no, false}} {
		if got := (local.Profile{KeepInTray: tc.keep}).HidesOnClose(); got != tc.want {
			t.Errorf("HidesOnClose() with KeepInTray %v = %v, want %v", tc.keep, got, tc.want)
		}
	}
}

func TestSaveProfileValidates(t *testing.T) {
	t.Parallel()
	s := openStore(t, tempPath(t))
	for _, p := range []local.Profile{{}, {Mode: "other"}, {Mode: local.ModeJoin}} {
		if err := s.SaveProfile(p); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("SaveProfile(%+v) = %v, want EINVALID", p, err)
		}
	}
	if err := s.SaveProfile(local.Profile{Mode: local.ModeHost, HostAddr: "0.0.0.0:8080"}); err != nil {
		t.Errorf("SaveProfile(host) = %v", err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	openStore(t, path)
	start := time.Now()
	s2, err := local.Open(path)
	elapsed := time.Since(start)
	if err == nil {
		_ = s2.Close()
		t.Fatal("second Open succeeded while the first is open")
	}
	if !errors.Is(err, local.ErrLocked) {
		t.Errorf("second Open error = %v, want ErrLocked", err)
	}
	if elapsed >= 2*time.Second {
		t.Errorf("second Open took %v, want < 2s", elapsed)
	}
}

func TestOpenAfterCloseSucceeds(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s, err := local.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	openStore(t, path)
}

func TestLastEventIDAcrossReopen(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := openStore(t, path)
	if id, err := s.LastEventID(); err != nil || id != "" {
		t.Fatalf("LastEventID() = %q, %v; want empty", id, err)
	}
	if err := s.SetLastEventID("01J0000000000000000000000A"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	if id, err := s.LastEventID(); err != nil || id != "01J0000000000000000000000A" {
		t.Fatalf("LastEventID() after reopen = %q, %v", id, err)
	}
	if err := s.SetLastEventID(""); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.LastEventID(); id != "" {
		t.Errorf("LastEventID() after reset = %q", id)
	}
}

func contents(t testing.TB, s *local.Store) []string {
	t.Helper()
	items, err := s.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, it := range items {
		if i > 0 && it.Seq <= items[i-1].Seq {
			t.Errorf("Outbox() not ordered by Seq: %d after %d", it.Seq, items[i-1].Seq)
		}
		out = append(out, it.Content)
	}
	return out
}

func TestOutboxOrderAcrossReopen(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := openStore(t, path)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var want []string
	// More than 255 items, so byte order and numeric order of Seq would differ for a
	// little-endian or textual key.
	for i := range 300 {
		c := fmt.Sprintf("message %d", i)
		chat := []string{"chatA", "chatB"}[i%2]
		if _, added, err := s.Enqueue(chat, fmt.Sprintf("c%d", i), c, now.Add(time.Duration(i)*time.Second)); err != nil || !added {
			t.Fatalf("Enqueue %d: added %v, err %v", i, added, err)
		}
		want = append(want, c)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	if got := contents(t, s); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("Outbox() after reopen = %d items %v…, want %d in enqueue order", len(got), got[:min(5, len(got))], len(want))
	}
	items, _ := s.Outbox()
	if it := items[7]; it.ChatID != "chatB" || it.ClientID != "c7" || !it.QueuedAt.Equal(now.Add(7*time.Second)) {
		t.Errorf("item 7 = %+v", it)
	}
	if n, err := s.OutboxLen(); err != nil || n != 300 {
		t.Errorf("OutboxLen() = %d, %v; want 300", n, err)
	}
	// Sequence numbers keep increasing after a reopen.
	it, _, err := s.Enqueue("chatA", "after-reopen", "later", now)
	if err != nil {
		t.Fatal(err)
	}
	if it.Seq <= items[len(items)-1].Seq {
		t.Errorf("Seq after reopen = %d, not above %d", it.Seq, items[len(items)-1].Seq)
	}
}

func TestEnqueueIsIdempotent(t *testing.T) {
	t.Parallel()
	s := openStore(t, tempPath(t))
	now := time.Now()
	first, added, err := s.Enqueue("chat1", "cid-1", "hello", now)
	if err != nil || !added {
		t.Fatalf("first Enqueue: added %v, err %v", added, err)
	}
	again, added, err := s.Enqueue("chat1", "cid-1", "hello (edited)", now.Add(time.Minute))
	if err != nil || added {
		t.Fatalf("second Enqueue: added %v, err %v; want existing item", added, err)
	}
	if again.Seq != first.Seq || again.Content != "hello" || !again.QueuedAt.Equal(first.QueuedAt) {
		t.Errorf("second Enqueue returned %+v, want %+v", again, first)
	}
	// The same client id in another chat is another message.
	if _, added, err := s.Enqueue("chat2", "cid-1", "hello", now); err != nil || !added {
		t.Errorf("Enqueue in another chat: added %v, err %v", added, err)
	}
	if n, _ := s.OutboxLen(); n != 2 {
		t.Errorf("OutboxLen() = %d, want 2", n)
	}
}

func TestEnqueueConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	s := openStore(t, tempPath(t))
	var wg sync.WaitGroup
	var mu sync.Mutex
	addedCount := 0
	for range 16 {
		wg.Go(func() {
			_, added, err := s.Enqueue("chat", "same", "hi", time.Now())
			if err != nil {
				t.Error(err)
			}
			if added {
				mu.Lock()
				addedCount++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if n, _ := s.OutboxLen(); n != 1 || addedCount != 1 {
		t.Errorf("after 16 concurrent enqueues: OutboxLen %d, added %d times; want 1 and 1", n, addedCount)
	}
}

func TestEnqueueValidates(t *testing.T) {
	t.Parallel()
	s := openStore(t, tempPath(t))
	for _, tc := range []struct{ chat, client, content string }{
		{"", "c1", "hi"},
		{"chat", "", "hi"},
		{"chat", "has space", "hi"},
		{"chat", strings.Repeat("x", backend.MaxClientIDLen+1), "hi"},
		{"chat", "c1", ""},
		{"chat", "c1", "  \n "},
		{"chat", "c1", "bad\x00byte"},
		{"chat", "c1", "\xff"},
		{"chat", "c1", strings.Repeat("é", backend.MaxContentLen+1)},
	} {
		if _, _, err := s.Enqueue(tc.chat, tc.client, tc.content, time.Now()); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("Enqueue(%q, %q, %.20q) = %v, want EINVALID", tc.chat, tc.client, tc.content, err)
		}
	}
	if n, _ := s.OutboxLen(); n != 0 {
		t.Errorf("OutboxLen() = %d after invalid enqueues", n)
	}
	if _, _, err := s.Enqueue("chat", "c1", "line one\nline two\ttab", time.Now()); err != nil {
		t.Errorf("multi-line content: %v", err)
	}
}

func TestRemoveFromOutboxIsExactlyOnce(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := openStore(t, path)
	now := time.Now()
	a, _, _ := s.Enqueue("chat", "a", "first", now)
	b, _, _ := s.Enqueue("chat", "b", "second", now)
	c, _, _ := s.Enqueue("chat", "c", "third", now)
	if err := s.RemoveFromOutbox(b.Seq); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFromOutbox(b.Seq); err != nil {
		t.Errorf("removing an item twice = %v, want nil", err)
	}
	if err := s.RemoveFromOutbox(999); err != nil {
		t.Errorf("removing an unknown seq = %v, want nil", err)
	}
	if err := s.RemoveFromOutbox(a.Seq); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, path)
	items, err := s.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Seq != c.Seq || items[0].Content != "third" {
		t.Fatalf("Outbox() after remove and reopen = %+v, want only %+v", items, c)
	}
	// Once sent and removed, the same client id may be queued again (a new message).
	again, added, err := s.Enqueue("chat", "a", "first again", now)
	if err != nil || !added || again.Seq <= c.Seq {
		t.Errorf("re-enqueue after remove = %+v, added %v, err %v", again, added, err)
	}
}

func TestCachePutGet(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := openStore(t, path)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	want := local.Cached{Body: []byte(`{"messages":[]}`), ContentType: "application/json", StoredAt: at}
	if err := s.PutCached("/api/chats/X/messages?limit=50", want); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Cached("/api/chats/Y/messages?limit=50"); err != nil || ok {
		t.Errorf("Cached(other key) = ok %v, err %v", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	got, ok, err := s.Cached("/api/chats/X/messages?limit=50")
	if err != nil || !ok {
		t.Fatalf("Cached() = ok %v, err %v", ok, err)
	}
	if !bytes.Equal(got.Body, want.Body) || got.ContentType != want.ContentType || !got.StoredAt.Equal(at) {
		t.Errorf("Cached() = %+v, want %+v", got, want)
	}
	// Replacing keeps one entry with the new body.
	if err := s.PutCached("/api/chats/X/messages?limit=50", local.Cached{Body: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Cached("/api/chats/X/messages?limit=50"); string(got.Body) != "new" {
		t.Errorf("after replace Body = %q", got.Body)
	}
	if err := s.ClearCache(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Cached("/api/chats/X/messages?limit=50"); ok {
		t.Error("entry survived ClearCache")
	}
	if err := s.PutCached("", want); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("PutCached(\"\") = %v, want EINVALID", err)
	}
}

func TestCacheSizeLimit(t *testing.T) {
	t.Parallel()
	s := openStore(t, tempPath(t))
	if err := s.PutCached("/k", local.Cached{Body: []byte("small")}); err != nil {
		t.Fatal(err)
	}
	big := local.Cached{Body: bytes.Repeat([]byte("x"), local.MaxCachedBody+1)}
	if err := s.PutCached("/k", big); err != nil {
		t.Fatalf("PutCached(too large) = %v, want nil", err)
	}
	if _, ok, _ := s.Cached("/k"); ok {
		t.Error("a too-large response left the stale entry in place (or was stored)")
	}
	exact := local.Cached{Body: bytes.Repeat([]byte("x"), local.MaxCachedBody)}
	if err := s.PutCached("/exact", exact); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := s.Cached("/exact"); !ok || len(got.Body) != local.MaxCachedBody {
		t.Errorf("a body of exactly MaxCachedBody: ok %v, len %d", ok, len(got.Body))
	}
}

func TestCacheEvictsLeastRecentlyStored(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := openStore(t, path, local.WithMaxCachedEntries(3))
	put := func(key string) {
		t.Helper()
		if err := s.PutCached(key, local.Cached{Body: []byte(key)}); err != nil {
			t.Fatal(err)
		}
	}
	has := func(key string) bool {
		t.Helper()
		_, ok, err := s.Cached(key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	put("/a")
	put("/b")
	put("/c")
	put("/a") // storing /a again makes /b the least recently stored
	put("/d")
	for key, want := range map[string]bool{"/a": true, "/b": false, "/c": true, "/d": true} {
		if got := has(key); got != want {
			t.Errorf("after put a b c a d: has(%s) = %v, want %v", key, got, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The order survives a reopen.
	s = openStore(t, path, local.WithMaxCachedEntries(3))
	put("/e")
	for key, want := range map[string]bool{"/a": true, "/c": false, "/d": true, "/e": true} {
		if got := has(key); got != want {
			t.Errorf("after reopen and put e: has(%s) = %v, want %v", key, got, want)
		}
	}
}

func TestCacheDefaultEntryLimit(t *testing.T) {
	t.Parallel()
	s := openStore(t, tempPath(t))
	for i := range local.MaxCachedEntries + 5 {
		if err := s.PutCached(fmt.Sprintf("/k/%d", i), local.Cached{Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, ok, _ := s.Cached(fmt.Sprintf("/k/%d", i)); ok {
			t.Errorf("/k/%d not evicted", i)
		}
	}
	for _, i := range []int{5, local.MaxCachedEntries + 4} {
		if _, ok, _ := s.Cached(fmt.Sprintf("/k/%d", i)); !ok {
			t.Errorf("/k/%d evicted", i)
		}
	}
}

// A message queued with notify anyway keeps it across a restart of the app.
func TestOutboxKeepsNotifyAnyway(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s := openStore(t, path)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, anyway := range []bool{true, false} {
		if _, _, err := s.EnqueueItem(local.OutboxItem{ChatID: "chatA", ClientID: fmt.Sprintf("n%d", i), Content: "x", NotifyAnyway: anyway}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	items, err := openStore(t, path).Outbox()
	if err != nil || len(items) != 2 || !items[0].NotifyAnyway || items[1].NotifyAnyway {
		t.Fatalf("Outbox() = %+v, %v", items, err)
	}
}

func TestSettingsOutliveTheProfile(t *testing.T) {
	st, err := local.Open(filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Settings()
	if err != nil || !s.Announces() || !s.Browses() {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	off := false
	if err := st.SaveSettings(local.Settings{LANAnnounce: &off}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveProfile(local.Profile{Mode: local.ModeHost}); err != nil {
		t.Fatal(err)
	}
	if err := st.ClearProfile(); err != nil {
		t.Fatal(err)
	}
	s, err = st.Settings()
	if err != nil || s.Announces() || !s.Browses() {
		t.Fatalf("after Change team: %+v %v", s, err)
	}
}
