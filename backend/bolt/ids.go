package bolt

import (
	"crypto/rand"
	"io"
	"time"

	"github.com/oklog/ulid/v2"
)

// idGen issues strictly increasing ULIDs. It is owned by the committer goroutine; last is
// restored from the event log at Open so ids keep increasing across restarts, and a clock that
// steps back cannot make them go backwards.
type idGen struct {
	last    ulid.ULID
	entropy io.Reader
}

func (g *idGen) next(now time.Time) ulid.ULID {
	ms := max(ulid.Timestamp(now), g.last.Time())
	for {
		id, err := ulid.New(ms, g.entropy)
		if err == nil && id.Compare(g.last) > 0 {
			g.last = id
			return id
		}
		// Monotonic entropy overflowed within this millisecond, or the last id came from an
		// earlier run in the same millisecond: move to the next millisecond.
		ms++
	}
}

// ulidEntropy reads from crypto/rand; ids are not secrets, but their randomness keeps them from
// being guessed across chats.
type ulidEntropy struct{}

func (ulidEntropy) Read(p []byte) (int, error) { return rand.Read(p) }
