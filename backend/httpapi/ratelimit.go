package httpapi

import (
	"container/list"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
	"golang.org/x/time/rate"
)

// Limit is a token bucket: Burst requests at once, then one more per Every. In a Config a zero
// field takes its default and a negative one (see Off) turns the limit off.
type Limit struct {
	Burst int
	Every time.Duration
}

// Off turns a Config's limit off.
var Off = Limit{Burst: -1, Every: -1}

// withDefault fills l's zero fields from def.
func (l Limit) withDefault(def Limit) Limit {
	if l.Burst == 0 {
		l.Burst = def.Burst
	}
	if l.Every == 0 {
		l.Every = def.Every
	}
	return l
}

// MaxLimiterKeys bounds the buckets one keyed limiter keeps (about 200 bytes each, so ~20 MB at
// most). Beyond it the least recently used bucket is forgotten: memory stays bounded whatever an
// attacker sends (a flood of distinct usernames or addresses), at the price that a forgotten key
// starts again with a full burst. Forgetting the least recently used keeps every key that was
// active within the last MaxLimiterKeys distinct ones; refusing new keys instead would let such a
// flood lock everyone else out.
const MaxLimiterKeys = 100_000

// keyedLimiter is a token bucket per key (a client IP, a username, a user id). A bucket idle for
// long enough to be full again is forgotten, as is the least recently used one once the limiter
// holds maxKeys. A nil *keyedLimiter allows everything: that is how a limit is turned off.
type keyedLimiter struct {
	limit   Limit
	maxKeys int
	now     backend.Clock

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket, in lru
	lru     *list.List               // most recently used first
}

type bucket struct {
	key  string
	lim  *rate.Limiter
	last time.Time
}

// newKeyedLimiter returns a limiter of l per key, or nil (no limit) when l is off.
func newKeyedLimiter(l Limit, now backend.Clock) *keyedLimiter {
	if l.Burst <= 0 || l.Every <= 0 {
		return nil
	}
	return &keyedLimiter{limit: l, maxKeys: MaxLimiterKeys, now: now, buckets: map[string]*list.Element{}, lru: list.New()}
}

// allow takes a token for key. When there is none it returns how long until there is one.
func (l *keyedLimiter) allow(key string) (bool, time.Duration) {
	_, ok, wait := l.take(key)
	return ok, wait
}

// take takes a token for key and returns a function that gives it back (for an attempt that
// turns out not to count, e.g. a successful sign-in). When there is no token it returns false and
// how long until there is one.
func (l *keyedLimiter) take(key string) (giveBack func(), ok bool, wait time.Duration) {
	if l == nil {
		return func() {}, true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// After idle, a bucket is full again: forgetting it changes nothing. The least recently
	// used buckets are at the back, so this costs only the buckets it forgets.
	idle := l.limit.Every * time.Duration(l.limit.Burst)
	for e := l.lru.Back(); e != nil && now.Sub(e.Value.(*bucket).last) > idle; e = l.lru.Back() {
		l.forget(e)
	}
	var b *bucket
	if e := l.buckets[key]; e != nil {
		b = e.Value.(*bucket)
		l.lru.MoveToFront(e)
	} else {
		if l.lru.Len() >= l.maxKeys {
			l.forget(l.lru.Back())
		}
		b = &bucket{key: key, lim: rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)}
		l.buckets[key] = l.lru.PushFront(b)
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, false, d
	}
	// Cancelling as of the moment of the reservation undoes it (rate.Reservation.CancelAt does
	// nothing for a moment after it has acted); it credits the time since once more, a rounding
	// error of the time between taking and giving back (a password check) over l.limit.Every.
	return func() { r.CancelAt(now) }, true, 0
}

func (l *keyedLimiter) forget(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// size is how many buckets the limiter holds.
func (l *keyedLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// limited wraps next so that each client IP gets at most limiter's rate; beyond it the answer is
// 429 with Retry-After (whole seconds, rounded up). A nil limiter lets everything through.
func (h *Handler) limited(l *keyedLimiter, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := l.allow(h.clientIP(r)); !ok {
			writeError(w, r, h.log, tooMany(w, wait))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tooMany sets Retry-After (whole seconds, rounded up) and returns the 429 error to render.
func tooMany(w http.ResponseWriter, wait time.Duration) error {
	return tooManyBecause(w, wait, "Too many requests")
}

// tooManyBecause is tooMany with a reason: "<reason>; try again in N s.".
func tooManyBecause(w http.ResponseWriter, wait time.Duration, reason string) error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return backend.Errorf(backend.ERATELIMIT, "%s; try again in %d s.", reason, secs)
}
