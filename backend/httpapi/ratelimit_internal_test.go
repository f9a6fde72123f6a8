package httpapi

import (
	"fmt"
	"testing"
	"time"
)

// A flood of distinct keys (usernames, addresses) cannot grow a limiter past its cap; the least
// recently used buckets go first, so a key in use keeps its state through the flood.
func TestKeyedLimiterStaysBounded(t *testing.T) {
	now := time.Now()
	l := newKeyedLimiter(Limit{Burst: 2, Every: time.Minute}, func() time.Time { return now })
	l.maxKeys = 100
	for range 2 {
		if ok, _ := l.allow("hot"); !ok {
			t.Fatal("hot: the burst was refused")
		}
	}
	for i := range 10 * l.maxKeys {
		if ok, _ := l.allow(fmt.Sprint("flood-", i)); !ok {
			t.Fatalf("flood-%d: a new key was refused", i)
		}
		if i%10 == 0 {
			if ok, _ := l.allow("hot"); ok { // touched now and then: it stays, and stays empty
				t.Fatalf("hot was forgotten during the flood (after %d keys)", i)
			}
		}
		if n := l.size(); n > l.maxKeys {
			t.Fatalf("%d buckets after %d keys, want at most %d", n, i+1, l.maxKeys)
		}
	}
	// Idle buckets are forgotten once they would be full again anyway.
	now = now.Add(2*time.Minute + time.Second)
	l.allow("late")
	if n := l.size(); n != 1 {
		t.Fatalf("%d buckets after everyone went idle, want 1", n)
	}
}

// A token given back is as if never taken.
func TestKeyedLimiterGiveBack(t *testing.T) {
	now := time.Now()
	l := newKeyedLimiter(Limit{Burst: 1, Every: time.Hour}, func() time.Time { return now })
	for range 5 {
		giveBack, ok, _ := l.take("k")
		if !ok {
			t.Fatal("refused although every token was given back")
		}
		now = now.Add(time.Second) // the password check takes a while
		giveBack()
	}
	l.allow("k")
	if ok, wait := l.allow("k"); ok || wait < 59*time.Minute {
		t.Fatalf("after the burst: ok=%v wait=%s", ok, wait)
	}
	var off *keyedLimiter // a limit turned off
	if ok, _ := off.allow("k"); !ok || newKeyedLimiter(Off, time.Now) != nil {
		t.Fatal("an off limit refused")
	}
}
