package hub_test

import (
	"errors"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// CHAT_MEMBER_REMOVED is the last frame of the removed member's streams of that chat; their user
// stream and everyone else's streams go on.
func TestMemberRemovedEndsTheirChatStreams(t *testing.T) {
	h := newHub(t, nil)
	var ids seq
	gone := subscribe(t, h, chatScope("u2", "c1"), "")
	goneOther := subscribe(t, h, chatScope("u2", "c2"), "")
	goneUser := subscribe(t, h, userScope("u2"), "")
	stays := subscribe(t, h, chatScope("u1", "c1"), "")

	before := chatEvent(t, ids.next(), "c1", "u1", "u2")
	removed := &backend.Event{ID: ids.next(), Type: backend.EventChatMemberRemoved, ChatID: "c1", UserID: "u2",
		Timestamp: 1, Recipients: []string{"u1", "u2"}}
	after := chatEvent(t, ids.next(), "c1", "u1")
	h.Publish(before, removed, after)

	evs, err := nextErr(t, gone)
	if !errors.Is(err, backend.ErrRemovedFromChat) || len(evs) != 2 || evs[0] != before || evs[1] != removed {
		t.Fatalf("removed member's chat stream: %s, %v", describe(evs), err)
	}
	if isDone(gone.Done()) {
		t.Error("Done closed: the last frame could be interrupted")
	}
	expectNone(t, goneOther, "the removed member's stream of another chat")
	expectEvents(t, goneUser, "the removed member's user stream", before, removed)
	expectEvents(t, stays, "a remaining member's chat stream", before, removed, after)
}
