package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxPhases bounds the phase numbers a subscriber counts separately.
const maxPhases = 8

// subscriber is one raw-TCP SSE stream. Its reader goroutine owns every field but the atomics.
type subscriber struct {
	idx       int
	token     string
	conn      net.Conn
	lastID    []byte // the last bench event's id, for the dup check
	lastAnyID []byte // the last id of any event, for Last-Event-ID (copied when the reader ends)
	counts    [maxPhases]atomic.Int64
	dups      atomic.Int64 // events whose id was not above the previous one
	others    atomic.Int64 // other data lines (presence changes, …)
	// seqs records the sequence numbers of the phase watched (resumeTrack), in arrival order,
	// for the exact-resume check; nil when not tracking.
	seqs  []int
	track int
	done  chan struct{} // closed when the reader returns
	err   error         // why the reader stopped, once done
}

// runState holds what all subscribers of one scenario share.
type runState struct {
	addr      string
	lat       [maxPhases]*histogram   // send → receive of bench events, per phase
	delivered [maxPhases]atomic.Int64 // bench events received, all subscribers, per phase
	lastRecv  atomic.Int64            // Unix ns of the last bench event received
	progress  chan struct{}           // gets a token (non-blocking) per bench event
}

// dialStream opens the subscriber's stream with a hand-written HTTP/1.1 request and waits for
// the ": connected" preamble (timeout), then reads events in a goroutine until the connection
// closes. lastEventID is sent as Last-Event-ID unless empty.
func (s *subscriber) dialStream(rn *runState, lastEventID string, timeout time.Duration) error {
	conn, err := net.DialTimeout("tcp", rn.addr, timeout)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET /api/stream HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\nUser-Agent: herald-bench\r\n", rn.addr, s.token)
	if lastEventID != "" {
		fmt.Fprintf(&req, "Last-Event-ID: %s\r\n", lastEventID)
	}
	req.WriteString("\r\n")
	if _, err := conn.Write(req.Bytes()); err != nil {
		conn.Close()
		return fmt.Errorf("write request: %w", err)
	}
	br := bufio.NewReaderSize(conn, 512)
	sr, err := readResponseHead(br)
	if err != nil {
		conn.Close()
		return err
	}
	var ev event
	if err := sr.next(&ev); !errors.Is(err, errConnected) {
		conn.Close()
		return fmt.Errorf("waiting for the connected preamble: %v", err)
	}
	_ = conn.SetDeadline(time.Time{})
	s.conn = conn
	s.done = make(chan struct{})
	go s.read(rn, sr)
	return nil
}

// readResponseHead reads the status line and headers, checks for 200 and returns an SSE reader
// over the body (de-chunked if the server chunks it).
func readResponseHead(br *bufio.Reader) (*sseReader, error) {
	status, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("read status line: %w", err)
	}
	chunked := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("read headers: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Transfer-Encoding") &&
			strings.Contains(strings.ToLower(v), "chunked") {
			chunked = true
		}
	}
	if !strings.Contains(status, " 200 ") {
		return nil, fmt.Errorf("stream answered %q", strings.TrimSpace(status))
	}
	var body io.Reader = br
	if chunked {
		body = &chunkedReader{r: br}
	}
	return &sseReader{r: bufio.NewReaderSize(body, 4096)}, nil
}

func (s *subscriber) read(rn *runState, sr *sseReader) {
	defer close(s.done)
	var ev event
	counted := 0 // of sr.others: a resumed subscriber's count goes on from its earlier streams'
	for {
		err := sr.next(&ev)
		if sr.others != counted {
			s.others.Add(int64(sr.others - counted))
			counted = sr.others
		}
		if errors.Is(err, errConnected) {
			continue
		}
		if err != nil {
			s.err = err
			s.lastAnyID = append(s.lastAnyID[:0], sr.last...)
			return
		}
		now := time.Now().UnixNano()
		if len(s.lastID) > 0 && bytes.Compare(ev.id, s.lastID) <= 0 {
			s.dups.Add(1)
		} else {
			s.lastID = append(s.lastID[:0], ev.id...)
		}
		if ev.phase <= 0 || ev.phase >= maxPhases {
			continue
		}
		s.counts[ev.phase].Add(1)
		if s.seqs != nil && ev.phase == s.track {
			s.seqs = append(s.seqs, ev.seq)
		}
		rn.lat[ev.phase].Record(time.Duration(now - ev.sentNS))
		rn.delivered[ev.phase].Add(1)
		rn.lastRecv.Store(now)
		select {
		case rn.progress <- struct{}{}:
		default:
		}
	}
}

// close ends the stream and waits for its reader.
func (s *subscriber) close() {
	if s.conn != nil {
		s.conn.Close()
		<-s.done
		s.conn = nil
	}
}

// connectAll opens the streams with at most conc dials at once; every one must connect.
func connectAll(ctx context.Context, rn *runState, subs []*subscriber, conc int, lastIDs bool) error {
	return parallel(ctx, len(subs), conc, func(i int) error {
		s := subs[i]
		var last string
		if lastIDs {
			last = string(s.lastAnyID)
		}
		if err := s.dialStream(rn, last, 30*time.Second); err != nil {
			return fmt.Errorf("subscriber %d: %w", s.idx, err)
		}
		return nil
	})
}

// publishSpec is one publishing phase.
type publishSpec struct {
	phase    int
	messages int
	rate     float64 // messages/s; 0: as fast as the posters go
	posters  int
	chatID   string
	tokens   []string // poster i uses tokens[i%len]
	// otherChats and otherTokens, when set, interleave `other` messages per bench message,
	// posted in those chats round robin (they are not counted or timed).
	otherChats  []string
	otherTokens []string
	other       int
}

// publishResult is what the posters measured.
type publishResult struct {
	start, end time.Time // first send, last answer
	post       []time.Duration
	failed     int
	firstErr   error
}

// publish posts spec.messages bench messages (and the interleaved others) through the REST API
// with spec.posters keep-alive clients; message i is due at start + i/rate. A failed post is
// counted, not retried.
func publish(ctx context.Context, addr string, spec publishSpec) *publishResult {
	type job struct {
		seq   int
		chat  string
		token string
		bench bool
	}
	jobs := make(chan job, spec.posters*2)
	res := &publishResult{start: time.Now(), post: make([]time.Duration, 0, spec.messages)}
	var mu sync.Mutex
	tr := &http.Transport{MaxIdleConnsPerHost: spec.posters, MaxConnsPerHost: spec.posters, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for range spec.posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := range jobs {
				var d time.Duration
				var err error
				buf, d, err = postOne(ctx, client, addr, j.chat, j.token, spec.phase, j.seq, j.bench, buf)
				mu.Lock()
				if err != nil {
					res.failed++
					if res.firstErr == nil {
						res.firstErr = err
					}
				} else if j.bench {
					res.post = append(res.post, d)
				}
				mu.Unlock()
			}
		}()
	}
	other := 0
	for i := 0; i < spec.messages && ctx.Err() == nil; i++ {
		if spec.rate > 0 {
			due := res.start.Add(time.Duration(float64(i) / spec.rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d) // the rate's tick
			}
		}
		jobs <- job{seq: i, chat: spec.chatID, token: spec.tokens[i%len(spec.tokens)], bench: true}
		for range spec.other {
			jobs <- job{seq: other, chat: spec.otherChats[other%len(spec.otherChats)], token: spec.otherTokens[other%len(spec.otherTokens)]}
			other++
		}
	}
	close(jobs)
	wg.Wait()
	res.end = time.Now()
	return res
}

func postOne(ctx context.Context, client *http.Client, addr, chat, token string, phase, seq int, bench bool, buf []byte) ([]byte, time.Duration, error) {
	start := time.Now()
	buf = append(buf[:0], `{"content":"`...)
	if bench {
		buf = benchContent(buf, phase, seq, start.UnixNano())
	} else {
		buf = fmt.Appendf(buf, "other %d %d", phase, seq)
	}
	buf = fmt.Appendf(buf, `","clientId":"b%d-%d-%d"}`, phase, seq, start.UnixNano())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/chats/"+chat+"/messages", bytes.NewReader(buf))
	if err != nil {
		return buf, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return buf, 0, fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusCreated {
		return buf, d, fmt.Errorf("post answered %s", resp.Status)
	}
	return buf, d, nil
}
