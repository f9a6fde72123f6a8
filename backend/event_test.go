package backend_test

import (
	"bytes"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// DecodeEventFrame gives back the id, type and the very frame of what was sealed, by its fast
// path for what Seal writes and by a real decode for anything else.
func TestDecodeEventFrame(t *testing.T) {
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
		got, err := backend.DecodeEventFrame(ev.Data())
		if err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		if got.ID != ev.ID || got.Type != ev.Type || !bytes.Equal(got.Frame(), ev.Frame()) {
			t.Errorf("%s: decoded %q %q, frame equal %v", ev.Type, got.ID, got.Type, bytes.Equal(got.Frame(), ev.Frame()))
		}
	}
	// Not in Seal's order, or escaped: the slow path reads it all the same.
	for _, data := range []string{
		`{"type":"TYPING","id":"x1"}`,
		`{"id":"a\"b","type":"NEW_MESSAGE"}`,
		`{"id":"x2", "type":"NEW_MESSAGE"}`,
	} {
		got, err := backend.DecodeEventFrame([]byte(data))
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
	if _, err := backend.DecodeEventFrame([]byte(`{"id":`)); err == nil {
		t.Error("a cut record decoded")
	}
}

// A decoded event keeps its own copy of the JSON (the store hands over bytes that are valid only
// inside its read transaction), held once: Data is the frame's data line.
func TestDecodedEventOwnsItsBytes(t *testing.T) {
	buf := []byte(`{"id":"01JCHAT0000000000000000000","type":"NEW_MESSAGE","chatId":"c","timestamp":1}`)
	for _, decode := range []func([]byte) (*backend.Event, error){backend.DecodeEvent, backend.DecodeEventFrame} {
		data := bytes.Clone(buf)
		ev, err := decode(data)
		if err != nil {
			t.Fatal(err)
		}
		want := "id: 01JCHAT0000000000000000000\ndata: " + string(buf) + "\n\n"
		clear(data)
		if string(ev.Frame()) != want || string(ev.Data()) != string(buf) {
			t.Fatalf("after the caller's buffer changed: frame %q, data %q", ev.Frame(), ev.Data())
		}
		if d := ev.Data(); cap(d) != len(d) {
			t.Fatalf("Data has spare capacity %d: appending to it would write into the frame", cap(d)-len(d))
		}
	}
}
