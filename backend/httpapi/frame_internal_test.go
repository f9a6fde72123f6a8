package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// The frame is DESIGN.md's, byte for byte: an id line only for an event with an id, one data
// line with the sealed JSON, a blank line. The stream writer writes the same bytes as
// AppendEventFrame, one event at a time and in batches larger than it writes at once.
func TestEventFrame(t *testing.T) {
	tests := []struct {
		name string
		ev   *backend.Event
		want string
	}{
		{"durable", &backend.Event{ID: "01JDQ7X3K9V2M4T8E6R5N0PZ1A", Type: backend.EventNewMessage, ChatID: "c", Timestamp: 1764201600000},
			"id: 01JDQ7X3K9V2M4T8E6R5N0PZ1A\ndata: {\"id\":\"01JDQ7X3K9V2M4T8E6R5N0PZ1A\",\"type\":\"NEW_MESSAGE\",\"chatId\":\"c\",\"timestamp\":1764201600000}\n\n"},
		{"ephemeral", &backend.Event{Type: backend.EventTyping, ChatID: "c", UserID: "u", Timestamp: 5},
			"data: {\"type\":\"TYPING\",\"chatId\":\"c\",\"userId\":\"u\",\"timestamp\":5}\n\n"},
		{"resync", &backend.Event{ID: "01JDQ7X3K9V2M4T8E6R5N0PZ1A", Type: backend.EventResync},
			"id: 01JDQ7X3K9V2M4T8E6R5N0PZ1A\ndata: {\"id\":\"01JDQ7X3K9V2M4T8E6R5N0PZ1A\",\"type\":\"RESYNC\",\"timestamp\":0}\n\n"},
		{"larger than a pooled buffer", &backend.Event{Type: backend.EventTyping, Reason: strings.Repeat("r", maxPooledFrame)},
			"data: {\"type\":\"TYPING\",\"reason\":\"" + strings.Repeat("r", maxPooledFrame) + "\",\"timestamp\":0}\n\n"},
		{"a line break in the payload", &backend.Event{Type: backend.EventTyping, Reason: "a\nb\r\u2028"},
			"data: {\"type\":\"TYPING\",\"reason\":\"a\\nb\\r\\u2028\",\"timestamp\":0}\n\n"},
	}
	rec := httptest.NewRecorder()
	out := &streamWriter{w: rec, rc: http.NewResponseController(rec), timeout: time.Minute}
	var all string
	var evs []*backend.Event
	for _, tt := range tests {
		if err := tt.ev.Seal(); err != nil {
			t.Fatal(err)
		}
		if got := string(AppendEventFrame(nil, tt.ev)); got != tt.want {
			t.Errorf("%s: AppendEventFrame = %q, want %q", tt.name, got, tt.want)
		}
		if got := string(AppendEventFrame([]byte("x"), tt.ev)); got != "x"+tt.want {
			t.Errorf("%s: AppendEventFrame after x = %q", tt.name, got)
		}
		out.events(tt.ev)
		all += tt.want
		evs = append(evs, tt.ev)
	}
	for len(evs) < 4*frameBatch/100 { // more than one write's worth of small frames
		evs = append(evs, evs[:2]...)
	}
	out.events(evs...)
	for _, ev := range evs {
		all += string(AppendEventFrame(nil, ev))
	}
	if err := out.flush(); err != nil {
		t.Fatal(err)
	}
	if got := rec.Body.String(); got != all {
		t.Errorf("the stream writer wrote %q,\nwant %q", got, all)
	}
	if n := out.take(); n != len(all) {
		t.Errorf("the stream writer counted %d bytes, wrote %d", n, len(all))
	}
}
