package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/httpapi"
)

// Without a valid invite, registering a taken name and a free one look the same: 403, never the
// 409 that would tell which names exist.
func TestRegisterChecksTheInviteBeforeTheUsername(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	alice := ts.register(t, "alice", "")
	for _, invite := range []string{"", "not-an-invite"} {
		for _, name := range []string{"alice", "nobody"} {
			r := ts.must(t, 403, request{method: "POST", path: "/api/auth/register",
				body: map[string]string{"username": name, "password": "long-enough-1", "inviteCode": invite}})
			if r.errorCode() != "forbidden" {
				t.Fatalf("register %s with invite %q: %s", name, invite, r.Raw)
			}
		}
	}
	ts.must(t, 409, request{method: "POST", path: "/api/auth/register",
		body: map[string]string{"username": "alice", "password": "long-enough-1", "inviteCode": ts.invite(t, alice)}})
}

// A failed sign-in takes as long whether the user is unknown, a bot (bots have no password), or
// a person with a wrong or an overlong password: each runs exactly one argon2id check. The test
// compares medians of interleaved attempts within one run, as ratios, so that a busy machine
// slows all cases alike; before the fix a bot's or an overlong attempt answered in well under a
// tenth of the time.
func TestFailedSignInTakesTheSameTimeWhatever(t *testing.T) {
	// Sign-in limits off: 120 failed attempts from one address on two accounts are the point.
	ts := newTestServer(t, serverOptions{tune: func(c *httpapi.Config) { c.SignInIP, c.SignInAccount = httpapi.Off, httpapi.Off }})
	tm := ts.team(t)
	bot := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "Build Bot"}})
	botName := bot.str("bot", "username")
	cases := []struct {
		name               string
		username, password string
	}{
		{"wrong password", "bob", "wrong-password"},
		{"unknown user", "nobody", "wrong-password"},
		{"bot", botName, "wrong-password"},
		{"overlong password", "bob", strings.Repeat("p", 4096)},
	}
	const rounds, warmup = 30, 3
	took := make([][]time.Duration, len(cases))
	order := make([]int, len(cases))
	for i := range order {
		order[i] = i
	}
	for round := range warmup + rounds {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, c := range order {
			start := time.Now()
			r := ts.do(t, request{method: "POST", path: "/api/auth/login",
				body: map[string]string{"username": cases[c].username, "password": cases[c].password}})
			d := time.Since(start)
			if r.Status != 401 || r.str("error", "message") != "Wrong username or password." {
				t.Fatalf("%s: %d %s", cases[c].name, r.Status, r.Raw)
			}
			if round >= warmup {
				took[c] = append(took[c], d)
			}
		}
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	base := median(took[0])
	var report, outside []string
	for i, c := range cases {
		m := median(took[i])
		ratio := float64(m) / float64(base)
		report = append(report, fmt.Sprintf("%s %.1f ms (%.2f×)", c.name, float64(m.Microseconds())/1000, ratio))
		if ratio < 0.7 || ratio > 1.4 {
			outside = append(outside, c.name)
		}
	}
	t.Logf("failed sign-in medians over %d interleaved attempts each: %s", rounds, strings.Join(report, "; "))
	if outside != nil {
		t.Errorf("median times of %s are not within 0.7–1.4× of the wrong password's", strings.Join(outside, ", "))
	}
}

// testClock is a settable clock for the API, safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func login(username, password string) request {
	return request{method: "POST", path: "/api/auth/login", body: map[string]string{"username": username, "password": password}}
}

// Sign-in and registration are limited per client IP, each in its own bucket.
func TestSignInAndRegistrationAreLimitedPerClientApart(t *testing.T) {
	clock := newTestClock() // no refill unless the test advances it
	ts := newTestServer(t, serverOptions{clock: clock.Now})
	alice := ts.register(t, "alice", "")
	for i := range httpapi.DefaultSignInIPBurst { // a name each: the per-account limit stays out of the way
		if r := ts.do(t, login(fmt.Sprint("nobody", i), "wrong-password")); r.Status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Raw)
		}
	}
	r := ts.must(t, 429, login("someone", "wrong-password"))
	if r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") != "3" || r.str("error", "message") != "Too many requests; try again in 3 s." {
		t.Fatalf("limited answer: %s Retry-After=%q", r.Raw, r.Header.Get("Retry-After"))
	}
	// Registration has a bucket of its own: sign-in attempts did not use it up...
	ts.register(t, "bob", ts.invite(t, alice))
	// ...and using it up leaves sign-in alone (once sign-in's bucket has refilled by one).
	for i := range httpapi.DefaultRegisterIPBurst - 2 { // alice and bob took two
		ts.must(t, 403, request{method: "POST", path: "/api/auth/register", body: map[string]string{"username": fmt.Sprint("eve", i), "password": "long-enough-1", "inviteCode": "nope"}})
	}
	ts.must(t, 429, request{method: "POST", path: "/api/auth/register", body: map[string]string{"username": "eve", "password": "long-enough-1", "inviteCode": "nope"}})
	clock.Advance(httpapi.DefaultSignInIPEvery)
	ts.must(t, 200, login("bob", "password-bob"))
	// Other routes are not limited by either.
	ts.must(t, 401, request{method: "GET", path: "/api/me"})
}

// Sign-in is also limited per account, keyed by the name whether the account exists or not, so
// that the limit tells nothing about which accounts exist.
func TestSignInIsLimitedPerAccount(t *testing.T) {
	clock := newTestClock()
	ts := newTestServer(t, serverOptions{clock: clock.Now, tune: func(c *httpapi.Config) { c.SignInIP = httpapi.Off }})
	ts.team(t)
	limited := func(rq request) {
		t.Helper()
		r := ts.must(t, 429, rq)
		if r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") != "30" ||
			r.str("error", "message") != "Too many sign-in attempts for this account; try again in 30 s." {
			t.Fatalf("limited answer: %s Retry-After=%q", r.Raw, r.Header.Get("Retry-After"))
		}
	}
	// Successful sign-ins give their token back: the owner can sign in any number of times.
	for range 2 * httpapi.DefaultSignInAccountBurst {
		ts.must(t, 200, login("carol", "password-carol"))
	}
	for _, name := range []string{"bob", "nobody"} {
		for i := range httpapi.DefaultSignInAccountBurst {
			if r := ts.do(t, login(name, "wrong-password")); r.Status != 401 {
				t.Fatalf("%s attempt %d: %d %s", name, i, r.Status, r.Raw)
			}
		}
		limited(login(name, "wrong-password"))
	}
	// The right password waits too (it is checked only within the limit), under any spelling of
	// the name; other accounts are not affected.
	limited(login(" BOB ", "password-bob"))
	ts.must(t, 200, login("carol", "password-carol"))
	ts.must(t, 401, login("carol", "wrong-password"))
	// One attempt per 30 s comes back.
	clock.Advance(httpapi.DefaultSignInAccountEvery)
	ts.must(t, 200, login("bob", "password-bob"))
	ts.must(t, 401, login("bob", "wrong-password")) // the success gave its token back
	limited(login("bob", "wrong-password"))
}
