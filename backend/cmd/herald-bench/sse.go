package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// chunkedReader undoes HTTP/1.1 chunked transfer encoding without allocating: Read returns the
// chunks' data and io.EOF after the last (zero-size) chunk. Trailers are not read.
type chunkedReader struct {
	r    *bufio.Reader
	left int // bytes left in the current chunk; 0 between chunks
	done bool
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("read chunk size: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseUint(string(line), 16, 31)
		if err != nil {
			return 0, fmt.Errorf("chunk size %q: %w", line, err)
		}
		if n == 0 {
			c.done = true
			return 0, io.EOF
		}
		c.left = int(n)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	if c.left == 0 && err == nil {
		// The CRLF that ends the chunk's data.
		if _, err = c.r.Discard(2); err != nil {
			return n, fmt.Errorf("chunk end: %w", err)
		}
	}
	return n, err
}

// event is what the SSE reader hands on for one data line of a NEW_MESSAGE event that carries a
// herald-bench payload: the event id, and the phase, sequence number and send time (Unix ns)
// from the message's content.
type event struct {
	id     []byte // valid until the next call to next
	phase  int
	seq    int
	sentNS int64
}

// sseReader reads a text/event-stream line by line and extracts only what the tool needs: it
// never decodes the JSON. Lines longer than its buffer are cut: their first bytes are looked
// at, the rest is skipped (a bench payload sits in the first few hundred bytes of an event).
type sseReader struct {
	r         *bufio.Reader
	id        []byte // the id of the event being read
	last      []byte // the last id seen on any event: what Last-Event-ID would carry
	connected bool   // the ": connected" comment was seen
	others    int    // data lines that were not bench NEW_MESSAGE events
}

var (
	prefixData      = []byte("data: ")
	prefixID        = []byte("id: ")
	commentConn     = []byte(": connected")
	typeNewMessage  = []byte(`"type":"NEW_MESSAGE"`)
	contentBenchTag = []byte(`"content":"hb `)
)

// next returns the next bench event. It returns io.EOF (or a wrapped read error) when the
// stream ends.
func (s *sseReader) next(ev *event) error {
	for {
		line, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Too long: keep the prefix's meaning, drop the rest of the line.
			line = append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = s.r.ReadSlice('\n')
			}
		}
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			s.id = s.id[:0]
		case bytes.HasPrefix(line, prefixID):
			s.id = append(s.id[:0], line[len(prefixID):]...)
			s.last = append(s.last[:0], s.id...)
		case bytes.HasPrefix(line, prefixData):
			if parseBenchData(line[len(prefixData):], ev) {
				ev.id = s.id
				return nil
			}
			s.others++
		case bytes.HasPrefix(line, commentConn):
			s.connected = true
			return errConnected
		}
	}
}

// errConnected is next's answer for the ": connected" preamble, so that the caller can tell
// the connect phase it is done.
var errConnected = errors.New("connected")

// parseBenchData finds a bench payload ("hb <phase> <seq> <unix ns>") in a NEW_MESSAGE
// event's JSON without decoding it.
func parseBenchData(data []byte, ev *event) bool {
	if !bytes.Contains(data, typeNewMessage) {
		return false
	}
	i := bytes.Index(data, contentBenchTag)
	if i < 0 {
		return false
	}
	rest := data[i+len(contentBenchTag):]
	var nums [3]int64
	for k := range nums {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			nums[k] = nums[k]*10 + int64(rest[j]-'0')
			j++
		}
		if j == 0 {
			return false
		}
		if k < 2 {
			if j >= len(rest) || rest[j] != ' ' {
				return false
			}
			j++
		}
		rest = rest[j:]
	}
	ev.phase, ev.seq, ev.sentNS = int(nums[0]), int(nums[1]), nums[2]
	return true
}

// benchContent is the message text a poster sends: phase, sequence number and send time.
func benchContent(buf []byte, phase, seq int, sentNS int64) []byte {
	buf = append(buf, "hb "...)
	buf = strconv.AppendInt(buf, int64(phase), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(seq), 10)
	buf = append(buf, ' ')
	return strconv.AppendInt(buf, sentNS, 10)
}
