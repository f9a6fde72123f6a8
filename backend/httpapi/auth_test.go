package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
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
	ts := newTestServer(t, serverOptions{authBurst: 1000})
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
