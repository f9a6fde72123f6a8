package backend_test

import (
	"bytes"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// DecodeEventHead gives back the id, type and the very JSON of what was sealed, by its fast path
// for what Seal writes and by a real decode for anything else.
func TestDecodeEventHead(t *testing.T) {
	id := "01JCHAT0000000000000000000"
	sealed := []*backend.Event{
		{ID: id, Type: backend.EventNewMessage, ChatID: "c", Message: &backend.Message{ID: id, Content: `a "quoted" \ text`}},
		{ID: id, Type: backend.EventChatMemberRemoved, ChatID: "c", UserID: "u"},
		{ID: id, Type: backend.EventReadMarker, ChatID: "c", MessageID: id},
	}
	for _, ev := range sealed {
		if err := ev.Seal(); err != nil {
			t.Fatal(err)
		}
		got, err := backend.DecodeEventHead(ev.Data())
		if err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		if got.ID != ev.ID || got.Type != ev.Type || !bytes.Equal(got.Data(), ev.Data()) {
			t.Errorf("%s: decoded %q %q, data %s, want %s", ev.Type, got.ID, got.Type, got.Data(), ev.Data())
		}
	}
	// Not in Seal's order, or escaped: the slow path reads it all the same.
	for _, data := range []string{
		`{"type":"TYPING","id":"x1"}`,
		`{"id":"a\"b","type":"NEW_MESSAGE"}`,
		`{"id":"x2", "type":"NEW_MESSAGE"}`,
	} {
		got, err := backend.DecodeEventHead([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		want, err := backend.DecodeEvent([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.Type != want.Type {
			t.Errorf("%s: %q %q, want %q %q", data, got.ID, got.Type, want.ID, want.Type)
		}
	}
	if _, err := backend.DecodeEventHead([]byte(`{"id":`)); err == nil {
		t.Error("a cut record decoded")
	}
}

// A decoded event keeps its own copy of the JSON: the store hands over bytes that are valid only
// inside its read transaction.
func TestDecodedEventOwnsItsBytes(t *testing.T) {
	buf := []byte(`{"id":"01JCHAT0000000000000000000","type":"NEW_MESSAGE","chatId":"c","timestamp":1}`)
	for _, decode := range []func([]byte) (*backend.Event, error){backend.DecodeEvent, backend.DecodeEventHead} {
		data := bytes.Clone(buf)
		ev, err := decode(data)
		if err != nil {
			t.Fatal(err)
		}
		clear(data)
		if string(ev.Data()) != string(buf) {
			t.Fatalf("after the caller's buffer changed: data %q", ev.Data())
		}
	}
}
