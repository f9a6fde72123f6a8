package sse_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/sse"
	"github.com/oklog/ulid/v2"
)

// FuzzReader: any byte stream parses without panicking into frames whose fields hold no line
// break (and ids no NUL), and ends with io.EOF or the line-length error.
func FuzzReader(f *testing.F) {
	f.Add([]byte("id: 01JDQ7X3K9V2M4T8E6R5N0PZ1A\ndata: {\"type\":\"NEW_MESSAGE\"}\n\n"))
	f.Add([]byte(": keepalive\nevent: keepalive\ndata: {}\n\nretry: 3000\n\n"))
	f.Add([]byte("data: a\r\ndata: b\rdata\n\nid\x00: x\nid: a\x00b\n\n"))
	f.Add([]byte("data:no space\n\ndata: cut off"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := sse.NewReader(bytes.NewReader(stream))
		for range len(stream) + 1 { // every frame consumes at least one byte
			fr, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "MaxLine") {
					t.Fatalf("Next: %v", err)
				}
				return
			}
			if strings.ContainsAny(fr.ID+fr.Event+fr.Comment, "\r\n") || strings.ContainsRune(fr.ID, 0) ||
				strings.ContainsRune(fr.Data, '\r') {
				t.Fatalf("frame %+v", fr)
			}
		}
		t.Fatal("more frames than bytes")
	})
}

// FuzzEventFrameRoundTrip: an event's frame, as the streams write it (httpapi.AppendEventFrame),
// reads back as one frame with the event's id and its JSON as data.
func FuzzEventFrameRoundTrip(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), "NEW_MESSAGE", "hello\nworld", "01JDQ7X3K9V2M4T8E6R5N0PZ1A", int64(1764201600000))
	f.Add([]byte{}, "TYPING", "", "", int64(0))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), "RESYNC", "\r\n\x00\u2028\xff", "x", int64(-1))
	f.Fuzz(func(t *testing.T, idBytes []byte, typ, content, chatID string, ts int64) {
		ev := &backend.Event{Type: backend.EventType(typ), ChatID: chatID, Timestamp: ts,
			Message: &backend.Message{ChatID: chatID, Content: content}}
		if len(idBytes) == 16 { // durable: a ULID id, as the log assigns
			ev.ID = ulid.ULID(idBytes).String()
		}
		if err := ev.Seal(); err != nil {
			t.Fatal(err)
		}
		frame := httpapi.AppendEventFrame(nil, ev)
		r := sse.NewReader(bytes.NewReader(frame))
		fr, err := r.Next()
		if err != nil {
			t.Fatalf("frame %q: %v", frame, err)
		}
		if fr.Data != string(ev.Data()) || fr.ID != ev.ID || fr.HasID != (ev.ID != "") || fr.Event != "" {
			t.Fatalf("frame %q read as %+v", frame, fr)
		}
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the frame: %v", err)
		}
	})
}
