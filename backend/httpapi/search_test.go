package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/search"
)

// searchServer is the real stack with a real search index on its store.
type searchServer struct {
	*testServer
	Index *search.Index
}

// newSearchServer is the real stack with a real search index on its store, fed as the team
// server feeds it (the store's publisher wakes it after the hub). Of o it takes the clocks and
// tune, which runs after the index is in the Config.
func newSearchServer(t *testing.T, o serverOptions) *searchServer {
	t.Helper()
	var ix *search.Index
	ts := newTestServer(t, serverOptions{clock: o.clock, storeClock: o.storeClock, tune: func(c *httpapi.Config) {
		store := c.Reads.(*bolt.Store)
		var err error
		ix, err = search.Open(filepath.Join(t.TempDir(), "search"), store, store,
			search.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		c.Search = ix
		if o.tune != nil {
			o.tune(c)
		}
	}})
	ts.Store.SetPublisher(publishers{ts.Hub, ix})
	t.Cleanup(func() { // before the store closes (cleanups run last first)
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	return &searchServer{testServer: ts, Index: ix}
}

type publishers []backend.Publisher

func (ps publishers) Publish(events ...*backend.Event) {
	for _, p := range ps {
		p.Publish(events...)
	}
}

// searchPage is GET /api/search's answer.
type searchPage struct {
	Results []struct {
		Message *backend.Message `json:"message"`
		ChatID  string           `json:"chatId"`
		Snippet string           `json:"snippet"`
	} `json:"results"`
	NextCursor string `json:"nextCursor"`
}

func (ts *testServer) search(t *testing.T, by account, params url.Values) searchPage {
	t.Helper()
	r := ts.must(t, http.StatusOK, request{method: "GET", path: "/api/search?" + params.Encode(), token: by.Token})
	var page searchPage
	if err := jsonUnmarshal(string(r.Raw), &page); err != nil {
		t.Fatal(err)
	}
	if page.Results == nil {
		t.Fatalf("results is not a list: %s", r.Raw)
	}
	return page
}

func (p searchPage) ids() []string {
	var ids []string
	for _, r := range p.Results {
		ids = append(ids, r.Message.ID)
	}
	return ids
}

func TestSearchAccess(t *testing.T) {
	ts := newSearchServer(t, serverOptions{})
	tm := ts.team(t)
	ts.post(t, tm.alice, tm.chat, "hello searchable world")
	private := ts.createChat(t, tm.alice, "alice alone")
	ts.post(t, tm.alice, private, "hello from the private chat")
	bobCarol := ts.createChat(t, tm.bob, "bob and carol", tm.carol.ID)
	unknown := "01JZZZZZZZZZZZZZZZZZZZZZZZ"
	for _, tc := range []struct {
		name   string
		who    account
		query  string
		status int
		code   string
	}{
		{"no session", account{}, "q=hello", http.StatusUnauthorized, backend.EUNAUTHORIZED},
		{"member", tm.bob, "q=hello", http.StatusOK, ""},
		{"member, own chat", tm.bob, "q=hello&chatId=" + tm.chat, http.StatusOK, ""},
		{"not a member of chatId", tm.bob, "q=hello&chatId=" + private, http.StatusForbidden, backend.EFORBIDDEN},
		{"admin, not a member", tm.alice, "q=hello&chatId=" + bobCarol, http.StatusForbidden, backend.EFORBIDDEN},
		{"in a chat without matches", tm.carol, "q=hello", http.StatusOK, ""},
		{"not a member, naming a chat", tm.carol, "q=hello&chatId=" + tm.chat, http.StatusForbidden, backend.EFORBIDDEN},
		{"unknown chat", tm.bob, "q=hello&chatId=" + unknown, http.StatusNotFound, backend.ENOTFOUND},
		{"malformed chatId", tm.bob, "q=hello&chatId=nope", http.StatusBadRequest, backend.EINVALID},
		{"no q", tm.bob, "", http.StatusBadRequest, backend.EINVALID},
		{"blank q", tm.bob, "q=+++", http.StatusBadRequest, backend.EINVALID},
		{"q too long", tm.bob, "q=" + strings.Repeat("x", 201), http.StatusBadRequest, backend.EINVALID},
		{"too many terms", tm.bob, "q=" + url.QueryEscape("a b c d e f g h i j k"), http.StatusBadRequest, backend.EINVALID},
		{"malformed from", tm.bob, "q=hello&from=bob", http.StatusBadRequest, backend.EINVALID},
		{"malformed before", tm.bob, "q=hello&before=yesterday", http.StatusBadRequest, backend.EINVALID},
		{"malformed after", tm.bob, "q=hello&after=2026-13-01", http.StatusBadRequest, backend.EINVALID},
		{"limit 0", tm.bob, "q=hello&limit=0", http.StatusBadRequest, backend.EINVALID},
		{"limit 51", tm.bob, "q=hello&limit=51", http.StatusBadRequest, backend.EINVALID},
		{"bad cursor", tm.bob, "q=hello&cursor=garbage!", http.StatusBadRequest, backend.EINVALID},
	} {
		r := ts.do(t, request{method: "GET", path: "/api/search?" + tc.query, token: tc.who.Token})
		if r.Status != tc.status || r.errorCode() != tc.code {
			t.Errorf("%s: %d %s, want %d %q", tc.name, r.Status, r.Raw, tc.status, tc.code)
		}
	}
	if got := ts.search(t, tm.bob, url.Values{"q": {"hello"}}).ids(); len(got) != 1 {
		t.Errorf("bob finds %v, want only general's message", got)
	}
	if got := ts.search(t, tm.carol, url.Values{"q": {"hello"}}); len(got.Results) != 0 || got.NextCursor != "" {
		t.Errorf("carol finds %+v", got)
	}
	// Someone in no chat at all gets no results (and the index is not asked).
	dave := ts.register(t, "dave", ts.invite(t, tm.alice))
	if got := ts.search(t, dave, url.Values{"q": {"hello"}}); len(got.Results) != 0 || got.NextCursor != "" {
		t.Errorf("dave, in no chat, finds %+v", got)
	}
}

// TestSearchHappyPath: messages just posted are found at once (the search waits for the index),
// with their message, chat and snippet, in the caller's chats only, newest first, paged, and
// filtered by author and time.
func TestSearchHappyPath(t *testing.T) {
	ts := newSearchServer(t, serverOptions{})
	tm := ts.team(t)
	private := ts.createChat(t, tm.alice, "alice alone")
	long := strings.Repeat("filler words around ", 20)
	first := ts.post(t, tm.alice, tm.chat, "The Quarterly report is due")
	second := ts.post(t, tm.bob, tm.chat, long+"then the quarterly numbers "+long)
	ts.post(t, tm.alice, private, "quarterly secrets")
	third := ts.post(t, tm.alice, tm.chat, "quarterly planning, round two")

	page := ts.search(t, tm.bob, url.Values{"q": {"quarterly"}})
	if got, want := page.ids(), []string{third, second, first}; !slices.Equal(got, want) {
		t.Fatalf("found %v, want %v (newest first, general only)", got, want)
	}
	for _, r := range page.Results {
		if r.ChatID != tm.chat || r.Message.ChatID != tm.chat || r.Message.Content == "" {
			t.Errorf("result %+v", r)
		}
	}
	if s := page.Results[0].Snippet; s != "quarterly planning, round two" {
		t.Errorf("short message's snippet %q", s)
	}
	if s := page.Results[1].Snippet; !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") || !strings.Contains(s, "then the quarterly numbers") {
		t.Errorf("long message's snippet %q", s)
	}
	if page.NextCursor != "" {
		t.Errorf("one page, yet nextCursor %q", page.NextCursor)
	}

	// Paging.
	var paged []string
	params := url.Values{"q": {"quarterly"}, "limit": {"1"}}
	for range 10 {
		p := ts.search(t, tm.bob, params)
		paged = append(paged, p.ids()...)
		if p.NextCursor == "" {
			break
		}
		params.Set("cursor", p.NextCursor)
	}
	if want := []string{third, second, first}; !slices.Equal(paged, want) {
		t.Errorf("paged %v, want %v", paged, want)
	}

	// Words, prefixes and phrases; from; before and after.
	for _, tc := range []struct {
		params url.Values
		want   []string
	}{
		{url.Values{"q": {"quarterly report"}}, []string{first}},
		{url.Values{"q": {"quart* numb*"}}, []string{second}},
		{url.Values{"q": {`"planning round"`}}, []string{third}},
		{url.Values{"q": {`"round planning"`}}, nil},
		{url.Values{"q": {"quarterly"}, "from": {tm.bob.ID}}, []string{second}},
		{url.Values{"q": {"quarterly"}, "chatId": {tm.chat}, "from": {tm.alice.ID}}, []string{third, first}},
		{url.Values{"q": {"quarterly"}, "before": {"2000-01-01"}}, nil},
		{url.Values{"q": {"quarterly"}, "after": {"2000-01-01"}}, []string{third, second, first}},
		{url.Values{"q": {"quarterly"}, "after": {time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)}}, nil},
		{url.Values{"q": {"quarterly"}, "after": {time.Now().UTC().Format(time.DateOnly)}}, []string{third, second, first}},
		{url.Values{"q": {"quarterly"}, "before": {"4102444800000"}}, []string{third, second, first}}, // 2100, in ms
	} {
		if got := ts.search(t, tm.bob, tc.params).ids(); !slices.Equal(got, tc.want) {
			t.Errorf("%v: found %v, want %v", tc.params, got, tc.want)
		}
	}
	// alice sees her private chat too.
	if got := ts.search(t, tm.alice, url.Values{"q": {"quarterly"}}).ids(); len(got) != 4 {
		t.Errorf("alice finds %v, want all four", got)
	}
}

func TestSearchUnavailableWithoutIndex(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	r := ts.do(t, request{method: "GET", path: "/api/search?q=hello", token: tm.bob.Token})
	if r.Status != http.StatusServiceUnavailable || r.errorCode() != backend.EUNAVAILABLE {
		t.Errorf("without an index: %d %s", r.Status, r.Raw)
	}
}

func TestSearchRateLimit(t *testing.T) {
	// The clock stands still: the bucket does not refill while the test runs.
	now := time.Now()
	ts := newSearchServer(t, serverOptions{clock: func() time.Time { return now }})
	tm := ts.team(t)
	for i := range 20 {
		if r := ts.do(t, request{method: "GET", path: "/api/search?q=burst", token: tm.bob.Token}); r.Status != http.StatusOK {
			t.Fatalf("search %d of the burst: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := ts.do(t, request{method: "GET", path: "/api/search?q=burst", token: tm.bob.Token})
	wantError(t, r, http.StatusTooManyRequests, backend.ERATELIMIT)
	if got := r.Header.Get("Retry-After"); got != "1" { // 5 a second, in whole seconds
		t.Errorf("search 21: Retry-After %q, want 1", got)
	}
	// Per user: alice's searches are hers.
	if r := ts.do(t, request{method: "GET", path: "/api/search?q=burst", token: tm.alice.Token}); r.Status != http.StatusOK {
		t.Errorf("alice after bob's burst: %d", r.Status)
	}
	// A malformed search costs nothing.
	if r := ts.do(t, request{method: "GET", path: "/api/search?q=", token: tm.alice.Token}); r.Status != http.StatusBadRequest {
		t.Errorf("malformed: %d", r.Status)
	}
}

// steppingClock is a clock a test moves, forward only (a store's clock must not go back: event
// ids grow).
type steppingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *steppingClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestSearchRateLimitIsConfigurable: Config.Searches sets the burst and the refill, and Off
// turns the limit off.
func TestSearchRateLimitIsConfigurable(t *testing.T) {
	clock := &steppingClock{now: time.Now()}
	ts := newSearchServer(t, serverOptions{clock: clock.Now, tune: func(c *httpapi.Config) {
		c.Searches = httpapi.Limit{Burst: 3, Every: 10 * time.Second}
	}})
	tm := ts.team(t)
	search := func() response {
		return ts.do(t, request{method: "GET", path: "/api/search?q=burst", token: tm.bob.Token})
	}
	for i := range 3 {
		if r := search(); r.Status != http.StatusOK {
			t.Fatalf("search %d of a burst of 3: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := search()
	wantError(t, r, http.StatusTooManyRequests, backend.ERATELIMIT)
	if got := r.Header.Get("Retry-After"); got != "10" {
		t.Errorf("Retry-After %q, want 10", got)
	}
	clock.set(clock.Now().Add(10 * time.Second)) // one search more
	if r := search(); r.Status != http.StatusOK {
		t.Errorf("10 s later: %d %s", r.Status, r.Raw)
	}
	if r := search(); r.Status != http.StatusTooManyRequests {
		t.Errorf("then: %d, want 429", r.Status)
	}

	off := newSearchServer(t, serverOptions{clock: clock.Now, tune: func(c *httpapi.Config) { c.Searches = httpapi.Off }})
	tm = off.team(t)
	for i := range 2*httpapi.DefaultSearchBurst + 1 {
		if r := off.do(t, request{method: "GET", path: "/api/search?q=burst", token: tm.bob.Token}); r.Status != http.StatusOK {
			t.Fatalf("search %d with the limit off: %d %s", i+1, r.Status, r.Raw)
		}
	}
}

// staleSearcher answers with fixed hits, as an index that lags behind the store would.
type staleSearcher struct{ hits []backend.SearchHit }

func (s staleSearcher) Search(context.Context, backend.SearchQuery) ([]backend.SearchHit, string, error) {
	return s.hits, "", nil
}

// TestSearchDropsWhatTheStoreDenies: hits whose message the store lacks, or that name a chat the
// caller is not in, or a chat other than the message's, are left out.
func TestSearchDropsWhatTheStoreDenies(t *testing.T) {
	stale := &staleSearcher{}
	ts := newTestServer(t, serverOptions{tune: func(c *httpapi.Config) { c.Search = stale }})
	tm := ts.team(t)
	private := ts.createChat(t, tm.alice, "alice alone")
	ok := ts.post(t, tm.alice, tm.chat, "visible")
	secret := ts.post(t, tm.alice, private, "not for bob")
	stale.hits = []backend.SearchHit{
		{MessageID: ok, ChatID: tm.chat},
		{MessageID: secret, ChatID: private},
		{MessageID: secret, ChatID: tm.chat},
		{MessageID: "01JNOSUCHMESSAGE0000000000", ChatID: tm.chat},
	}
	if got := ts.search(t, tm.bob, url.Values{"q": {"anything"}}).ids(); !slices.Equal(got, []string{ok}) {
		t.Errorf("bob gets %v, want only %s", got, ok)
	}
}
