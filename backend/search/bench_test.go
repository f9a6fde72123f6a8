package search_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Benchmarks. They build their data only when run (-bench), never in a plain go test:
//
//	go test -run '^$' -bench . -benchtime 2000x ./backend/search/
const (
	benchMessages = 100_000
	benchChats    = 100
	benchMember   = 10 // chats the searching user is in
	benchWords    = 3000
	benchWait     = 10 * time.Minute // for an index of the corpus to be built
)

// corpus is a team's history: benchMessages messages in benchChats chats, of 3 to 25 words drawn
// from a vocabulary of benchWords words with a Zipf distribution (a few words are everywhere,
// most are rare), from a fixed seed.
type corpus struct {
	words []string
	log   *memLog
	msgs  []*backend.Message
}

func newCorpus(n int) *corpus {
	r := rand.New(rand.NewPCG(1, 2))
	c := &corpus{log: newMemLog()}
	consonants, vowels := "bcdfghjklmnprstvwz", "aeiou"
	seen := map[string]bool{}
	for len(c.words) < benchWords {
		var w strings.Builder
		for range 1 + r.IntN(4) {
			w.WriteByte(consonants[r.IntN(len(consonants))])
			w.WriteByte(vowels[r.IntN(len(vowels))])
		}
		if s := w.String(); !seen[s] {
			seen[s] = true
			c.words = append(c.words, s)
		}
	}
	zipf := rand.NewZipf(r, 1.07, 2, uint64(len(c.words)-1))
	start := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range n {
		words := make([]string, 3+r.IntN(23))
		for j := range words {
			words[j] = c.words[zipf.Uint64()]
		}
		chat := fmt.Sprintf("01JBENCHCHAT%014d", r.IntN(benchChats))
		author := fmt.Sprintf("01JBENCHUSER%014d", r.IntN(50))
		c.msgs = append(c.msgs, c.log.post(chat, author, strings.Join(words, " "), start+int64(i)*60_000))
	}
	return c
}

func dirSize(tb testing.TB, dir string) int64 {
	tb.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkSearch: query latency over the corpus for a user in benchMember chats, for a word, a
// prefix and a two-word phrase, each drawn afresh per query; p50/p95/p99 in ms.
func BenchmarkSearch(b *testing.B) {
	c := newCorpus(benchMessages)
	dir := b.TempDir()
	ix := openIndex(b, dir, c.log, c.log)
	caughtUpWithin(b, ix, c.log.last(b), benchWait)
	r := rand.New(rand.NewPCG(3, 4))
	var member []string
	for _, i := range r.Perm(benchChats)[:benchMember] {
		member = append(member, fmt.Sprintf("01JBENCHCHAT%014d", i))
	}
	for _, kind := range []struct {
		name string
		q    func() string
	}{
		{"word", func() string { return c.words[r.IntN(len(c.words))] }},
		{"prefix", func() string { return c.words[r.IntN(len(c.words))][:2] + "*" }},
		{"phrase", func() string {
			words := strings.Fields(c.msgs[r.IntN(len(c.msgs))].Content)
			i := r.IntN(len(words) - 1)
			return `"` + words[i] + " " + words[i+1] + `"`
		}},
	} {
		b.Run(kind.name, func(b *testing.B) {
			var took []time.Duration
			hits := 0
			for b.Loop() {
				b.StopTimer()
				q := backend.SearchQuery{Terms: terms(b, kind.q()), ChatIDs: member}
				b.StartTimer()
				start := time.Now()
				found, _, err := ix.Search(context.Background(), q)
				took = append(took, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				hits += len(found)
			}
			reportPercentiles(b, took)
			b.ReportMetric(float64(hits)/float64(len(took)), "hits/query")
		})
	}
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	at := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkIndexing: messages per second through the real feeder — events read from the log in
// batches of DefaultBatchSize, applied, persisted — for the whole corpus, and the index's size
// on disk at the end.
func BenchmarkIndexing(b *testing.B) {
	c := newCorpus(benchMessages)
	for b.Loop() {
		b.StopTimer()
		// The index starts after the log's first event, as if it had been built just then, and
		// the rest arrives at once.
		l := newMemLog()
		l.events = c.log.events[:1]
		dir := b.TempDir()
		ix := openIndex(b, dir, l, l)
		caughtUp(b, ix, l.last(b))
		l.mu.Lock()
		l.events = c.log.events
		l.mu.Unlock()
		b.StartTimer()
		start := time.Now()
		caughtUpWithin(b, ix, c.log.last(b), benchWait)
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(len(c.log.events)-1)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(dirSize(b, dir)), "index-bytes")
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkErase: what one deletion costs in an index of the corpus until its words are gone
// from disk (the forced merge and the removal of the old files).
func BenchmarkErase(b *testing.B) {
	c := newCorpus(benchMessages)
	ix := openIndex(b, b.TempDir(), c.log, c.log)
	caughtUpWithin(b, ix, c.log.last(b), benchWait)
	i := 0
	for b.Loop() {
		caughtUp(b, ix, c.log.remove(c.msgs[i].ID))
		i++
		erased(b, ix)
	}
}
