// Package sse reads Server-Sent Events streams by the WHATWG rules: the Go side of Herald (the
// desktop app's own subscription, tests, load tools) uses it to read what browsers read.
package sse

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
)

// Frame is one dispatched event, or one comment line.
type Frame struct {
	// ID is the frame's "id:" field; HasID tells an empty id apart from none.
	ID    string
	HasID bool
	// Event is the "event:" field, "" for the default "message" event.
	Event string
	// Data is the joined "data:" lines.
	Data string
	// Retry is the last "retry:" value in ms seen with this frame, 0 when none.
	Retry int
	// Comment is the text of a comment line (after ":"); a comment is delivered as a Frame of
	// its own with no other field set.
	Comment   string
	IsComment bool
}

// Reader parses frames from a stream. It is not safe for concurrent use.
type Reader struct {
	br      *bufio.Reader
	idBuf   string // the spec's "last event ID buffer": set by id fields, kept across frames
	lastID  string // set from idBuf whenever a frame ends
	retry   int
	pending bytes.Buffer
}

// MaxLine bounds one line, so that a hostile stream cannot exhaust memory (bytes).
const MaxLine = 1 << 20

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 16<<10)} }

// LastEventID is what a reconnect sends as Last-Event-ID: the last id field of a frame that
// ended (with or without data). A frame cut off by the end of the stream does not count.
func (r *Reader) LastEventID() string { return r.lastID }

// Retry is the last reconnection delay the server asked for, in ms (0 if it never did).
func (r *Reader) Retry() int { return r.retry }

// Next returns the next comment or dispatched event. Frames without data are not dispatched
// (per the spec), but their id and retry fields still take effect. At the end of the stream it
// returns io.EOF; a frame cut off by the end is discarded.
func (r *Reader) Next() (Frame, error) {
	var (
		f       Frame
		data    strings.Builder
		hasData bool
	)
	for {
		line, err := r.readLine()
		if err != nil {
			return Frame{}, err
		}
		if line == "" {
			r.lastID = r.idBuf
			if !hasData {
				f = Frame{}
				continue
			}
			f.Data = data.String()
			f.Retry = r.retry
			return f, nil
		}
		if line[0] == ':' {
			return Frame{Comment: strings.TrimPrefix(line[1:], " "), IsComment: true}, nil
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				f.ID, f.HasID = value, true
				r.idBuf = value
			}
		case "event":
			f.Event = value
		case "retry":
			if n, err := strconv.Atoi(value); err == nil && n >= 0 {
				r.retry = n
			}
		}
	}
}

// readLine returns one line without its terminator (LF, CRLF or CR).
func (r *Reader) readLine() (string, error) {
	r.pending.Reset()
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			return "", err
		}
		switch b {
		case '\n':
			return r.pending.String(), nil
		case '\r':
			if next, err := r.br.Peek(1); err == nil && next[0] == '\n' {
				_, _ = r.br.ReadByte()
			}
			return r.pending.String(), nil
		}
		if r.pending.Len() >= MaxLine {
			return "", errLineTooLong
		}
		r.pending.WriteByte(b)
	}
}

type sseError string

func (e sseError) Error() string { return string(e) }

const errLineTooLong = sseError("sse: line longer than MaxLine")
