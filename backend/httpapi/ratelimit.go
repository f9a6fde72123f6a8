package httpapi

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
	"golang.org/x/time/rate"
)

// keyedLimiter is a token bucket per key (a client IP), so that password guessing from one
// address is slowed without locking the account for everyone. Buckets idle for longer than it
// takes them to refill are forgotten, which bounds memory by the number of recently active
// clients.
type keyedLimiter struct {
	every time.Duration // one token per every
	burst int
	now   backend.Clock

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newKeyedLimiter(every time.Duration, burst int, now backend.Clock) *keyedLimiter {
	return &keyedLimiter{every: every, burst: burst, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key. When there is none it returns how long until there is one.
func (l *keyedLimiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	idle := l.every * time.Duration(l.burst)
	if now.Sub(l.swept) > idle {
		for k, b := range l.buckets {
			if now.Sub(b.last) > idle {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limited wraps next so that each client IP gets at most limiter's rate; beyond it the answer is
// 429 with Retry-After (whole seconds, rounded up).
func (h *Handler) limited(l *keyedLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		if ok, wait := l.allow(ip); !ok {
			writeError(w, r, h.log, tooMany(w, wait))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tooMany sets Retry-After (whole seconds, rounded up) and returns the 429 error to render.
func tooMany(w http.ResponseWriter, wait time.Duration) error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return backend.Errorf(backend.ERATELIMIT, "Too many requests; try again in %d s.", secs)
}
