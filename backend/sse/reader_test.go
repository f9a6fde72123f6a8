package sse_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend/sse"
)

func TestReader(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []sse.Frame
		lastID string
	}{
		{"one frame", "id: 1\ndata: {\"a\":1}\n\n", []sse.Frame{{ID: "1", HasID: true, Data: `{"a":1}`}}, "1"},
		{"multi-line data", "data: a\ndata: b\n\n", []sse.Frame{{Data: "a\nb"}}, ""},
		{"CRLF and CR line ends", "id: x\r\ndata: 1\r\r\ndata: 2\r\n\r\n", []sse.Frame{{ID: "x", HasID: true, Data: "1"}, {Data: "2"}}, "x"},
		{"comment", ": keepalive\n\ndata: z\n\n", []sse.Frame{{Comment: "keepalive", IsComment: true}, {Data: "z"}}, ""},
		{"retry applies to later frames", "retry: 1500\n\ndata: y\n\n", []sse.Frame{{Data: "y", Retry: 1500}}, ""},
		{"no space after colon", "data:q\n\n", []sse.Frame{{Data: "q"}}, ""},
		{"id without data still sets last id", "id: 7\n\n", nil, "7"},
		{"unknown fields ignored", "foo: bar\ndata: d\n\n", []sse.Frame{{Data: "d"}}, ""},
		{"event name", "event: ping\ndata: p\n\n", []sse.Frame{{Event: "ping", Data: "p"}}, ""},
		{"cut-off frame is dropped", "id: 1\ndata: whole\n\nid: 2\ndata: half", []sse.Frame{{ID: "1", HasID: true, Data: "whole"}}, "1"},
		{"id carries over frames without one", "id: 5\ndata: a\n\ndata: b\n\n", []sse.Frame{{ID: "5", HasID: true, Data: "a"}, {Data: "b"}}, "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sse.NewReader(strings.NewReader(tt.stream))
			var got []sse.Frame
			for {
				f, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, f)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d frames %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("frame %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if r.LastEventID() != tt.lastID {
				t.Errorf("LastEventID = %q, want %q", r.LastEventID(), tt.lastID)
			}
		})
	}
}

func TestReaderLineLimit(t *testing.T) {
	r := sse.NewReader(strings.NewReader("data: " + strings.Repeat("x", sse.MaxLine+1) + "\n\n"))
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want line too long", err)
	}
}
