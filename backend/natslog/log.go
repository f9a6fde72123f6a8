package natslog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LogConfig names and shapes the stream that holds the log.
type LogConfig struct {
	Stream  string // default "HERALD_LOG"
	Subject string // default "herald.log"
	// Replicas is how many NATS nodes hold each entry (1, 3 or 5; default 3, at most the
	// cluster's size). An entry is acknowledged once a majority holds it.
	Replicas int
	// Duplicates is how long JetStream remembers an entry's id, so that an append retried after
	// a lost acknowledgement is stored once (default 10 minutes: longer than any retry).
	Duplicates time.Duration
	// AppendTimeout bounds one attempt of an append (default 2 s); Append retries within its
	// context. A leader election takes ~7 s: a writer's requests wait through it.
	AppendTimeout time.Duration
}

func (c *LogConfig) defaults() {
	if c.Stream == "" {
		c.Stream = "HERALD_LOG"
	}
	if c.Subject == "" {
		c.Subject = "herald.log"
	}
	if c.Replicas <= 0 {
		c.Replicas = 3
	}
	if c.Duplicates <= 0 {
		c.Duplicates = 10 * time.Minute
	}
	if c.AppendTimeout <= 0 {
		c.AppendTimeout = 2 * time.Second
	}
}

// Log is the replicated log: entries numbered 1, 2, … by the stream's sequence, appended by one
// writer at a time. Safe for concurrent use.
type Log struct {
	js  jetstream.JetStream
	cfg LogConfig
	// stream is the handle OpenLog got: reads through it need no stream info request first.
	stream jetstream.Stream
}

// ErrFenced is returned by Append when the log holds entries past the one the caller expected
// to follow: another writer appended, and the caller must catch up before it writes again.
var ErrFenced = errors.New("the log moved on: another writer appended")

// OpenLog creates the stream unless it exists (retrying while JetStream is still electing its
// leaders after a start), and returns the log.
func OpenLog(ctx context.Context, js jetstream.JetStream, cfg LogConfig) (*Log, error) {
	cfg.defaults()
	sc := jetstream.StreamConfig{
		Name:       cfg.Stream,
		Subjects:   []string{cfg.Subject},
		Storage:    jetstream.FileStorage,
		Replicas:   cfg.Replicas,
		Duplicates: cfg.Duplicates,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
		// No direct gets: a replica answers them from its own copy, which may lag (a node whose
		// copy fell behind would read an old end of the log and catch up to the wrong place).
		// Reads go to the leader, which the writer keeps off its own machine.
		AllowDirect: false,
	}
	var stream jetstream.Stream
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		stream, err = js.CreateOrUpdateStream(ctx, sc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open log stream %s: %w", cfg.Stream, err)
	}
	return &Log{js: js, cfg: cfg, stream: stream}, nil
}

// Append stores payload as the entry after the one numbered after (0: the first entry) and
// returns its number, after+1. id names the entry for de-duplication: an append retried with
// the same id (the acknowledgement was lost) returns the number the first one got. If the log
// holds an entry past after, Append fails with ErrFenced and stores nothing. Each attempt is
// bounded by AppendTimeout; Append retries until ctx ends.
func (l *Log) Append(ctx context.Context, after uint64, id string, payload []byte) (uint64, error) {
	var seq uint64
	err := retryWithin(ctx, l.cfg.AppendTimeout, func(ctx context.Context) error {
		ack, err := l.js.Publish(ctx, l.cfg.Subject, payload, jetstream.WithMsgID(id),
			jetstream.WithExpectLastSequence(after), jetstream.WithRetryAttempts(0))
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			// Our own earlier attempt may be what moved the log on (its acknowledgement was
			// lost): then the entry after is ours.
			if mine, cerr := l.entryIs(ctx, after+1, id); cerr != nil {
				return cerr
			} else if mine {
				seq = after + 1
				return nil
			}
			return permanent{ErrFenced}
		}
		if err != nil {
			return err
		}
		seq = ack.Sequence
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("append after %d: %w", after, err)
	}
	if seq != after+1 {
		// A duplicate of an entry appended earlier under the same id, which a retry alone
		// could cause — and then it was this entry, at after+1.
		return 0, fmt.Errorf("append after %d: stored as %d: %w", after, seq, ErrFenced)
	}
	return seq, nil
}

// entryIs reports whether entry seq was appended under id.
func (l *Log) entryIs(ctx context.Context, seq uint64, id string) (bool, error) {
	msg, err := l.stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return msg.Header.Get(jetstream.MsgIDHeader) == id, nil
}

// Get returns entry seq, read from the stream's leader (ErrNotFound past the end, a
// *TruncatedError before the oldest entry kept).
func (l *Log) Get(ctx context.Context, seq uint64) ([]byte, error) {
	var data []byte
	err := retry(ctx, func(ctx context.Context) error {
		msg, err := l.stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			info, ierr := l.stream.Info(ctx)
			if ierr == nil && seq < info.State.FirstSeq {
				return permanent{&TruncatedError{Seq: seq}}
			}
			return permanent{ErrNotFound}
		}
		if err != nil {
			return err
		}
		data = msg.Data
		return nil
	})
	return data, err
}

// ErrNotFound is Get's error for an entry the log does not hold.
var ErrNotFound = errors.New("no such log entry")

// TruncatedError says that the log no longer holds entry Seq: Truncate removed it, so a
// store that still needs it must start again from a snapshot.
type TruncatedError struct{ Seq uint64 }

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("the log no longer holds entry %d (it keeps entries after a snapshot)", e.Seq)
}

// Truncate removes the entries numbered below before (those a snapshot holds), keeping before
// and every later one; the numbers of the rest do not change. It never removes the newest
// entry, whatever before says: Last and the writer's fence read it.
func (l *Log) Truncate(ctx context.Context, before uint64) error {
	last, err := l.Last(ctx)
	if err != nil {
		return err
	}
	before = min(before, last)
	if before <= 1 {
		return nil
	}
	err = retry(ctx, func(ctx context.Context) error {
		return l.stream.Purge(ctx, jetstream.WithPurgeSequence(before))
	})
	if err != nil {
		return fmt.Errorf("truncate the log below %d: %w", before, err)
	}
	return nil
}

// Last returns the number of the log's newest entry (0: empty), as the stream's leader has it.
func (l *Log) Last(ctx context.Context) (uint64, error) {
	var last uint64
	err := retry(ctx, func(ctx context.Context) error {
		msg, err := l.stream.GetLastMsgForSubject(ctx, l.cfg.Subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			last = 0
			return nil
		}
		if err != nil {
			return err
		}
		last = msg.Sequence
		return nil
	})
	return last, err
}

// First returns the number of the oldest entry the log still holds (1 until entries are
// removed; a node that needs an older one must start from a snapshot).
func (l *Log) First(ctx context.Context) (uint64, error) {
	var first uint64
	err := retry(ctx, func(ctx context.Context) error {
		s, err := l.js.Stream(ctx, l.cfg.Stream)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		first = info.State.FirstSeq
		return nil
	})
	return first, err
}

// Follow calls apply for every entry from number from on, in order, without a gap, until ctx
// ends or apply fails (its error is returned). It keeps one ordered consumer, which NATS
// recreates at the right place after a reset or a leader change.
func (l *Log) Follow(ctx context.Context, from uint64, apply func(seq uint64, payload []byte) error) error {
	if from == 0 {
		from = 1
	}
	var cons jetstream.Consumer
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		cons, err = l.js.OrderedConsumer(ctx, l.cfg.Stream, jetstream.OrderedConsumerConfig{
			FilterSubjects:    []string{l.cfg.Subject},
			DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:       from,
			InactiveThreshold: 30 * time.Second,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("follow the log from %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullHeartbeat(time.Second), jetstream.PullExpiry(5*time.Second))
	if err != nil {
		return fmt.Errorf("follow the log from %d: %w", from, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	next := from
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("follow the log at %d: %w", next, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("follow the log at %d: %w", next, err)
		}
		seq := md.Sequence.Stream
		if seq < next {
			continue // redelivered after a consumer reset
		}
		if seq != next {
			return fmt.Errorf("follow the log: entry %d after %d: %w", seq, next-1, &TruncatedError{Seq: next})
		}
		if err := apply(seq, msg.Data()); err != nil {
			return err
		}
		next = seq + 1
	}
}

// permanent marks an error retry must not retry.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retry runs f until it succeeds, fails permanently or ctx ends, each attempt bounded by 2 s,
// backing off from 50 ms to 1 s between attempts. JetStream answers "no responders" or times
// out while it elects leaders (after a start, a node's death or a partition), and a request in
// flight when its node goes away is lost until its deadline: those pass.
func retry(ctx context.Context, f func(context.Context) error) error {
	return retryWithin(ctx, 2*time.Second, f)
}

// retryWithin is retry with each attempt bounded by per (0: by ctx alone).
func retryWithin(ctx context.Context, per time.Duration, f func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if per > 0 {
			actx, cancel = context.WithTimeout(ctx, per)
		}
		err := f(actx)
		cancel()
		var p permanent
		switch {
		case err == nil:
			return nil
		case errors.As(err, &p):
			return p.error
		case ctx.Err() != nil:
			return fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}
