package backend

import (
	"reflect"
	"slices"
	"testing"
)

func TestCheckEmoji(t *testing.T) {
	for _, ok := range []string{"👍", "👍🏽", "❤️", "❤", "🇩🇪", "1️⃣", "#⃣", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🧑🏿‍💻",
		"🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "☕", "©️", "🫠"} {
		if err := CheckEmoji(ok); err != nil {
			t.Errorf("CheckEmoji(%q) = %v, want ok", ok, err)
		}
	}
	for _, bad := range []string{"", "a", ":+1:", "👍👍", "👍 ", " 👍", "<script>", "🇩", "🇩🇪🇫🇷", "1", "\u200d👍", "👍\u200d",
		"🏽", "👍🏽🏽", "\ufe0f", "x\u20e3", "👍\x00", "\xff", string(make([]byte, MaxEmojiLen+1))} {
		if err := CheckEmoji(bad); err == nil {
			t.Errorf("CheckEmoji(%q) accepted", bad)
		} else if e, ok := err.(*Error); !ok || e.Code != EINVALID {
			t.Errorf("CheckEmoji(%q) = %v, want EINVALID", bad, err)
		}
	}
}

func TestReact(t *testing.T) {
	m := &Message{ID: "m"}
	step := func(user, emoji string, on, wantChanged bool) {
		t.Helper()
		changed, err := React(m, user, emoji, on)
		if err != nil || changed != wantChanged {
			t.Fatalf("React(%s, %s, %v) = %v, %v; want changed=%v", user, emoji, on, changed, err, wantChanged)
		}
	}
	step("a", "👍", true, true)
	step("b", "👍", true, true)
	step("b", "👍", true, false)
	step("a", "🎉", true, true)
	step("c", "🎉", false, false)
	step("a", "👍", false, true)
	if len(m.Reactions) != 2 || m.Reactions[0].Emoji != "👍" || m.Reactions[0].Count != 1 || !slices.Equal(m.Reactions[0].UserIDs, []string{"b"}) {
		t.Fatalf("reactions %+v", m.Reactions)
	}
	step("a", "🎉", false, true)
	if len(m.Reactions) != 1 {
		t.Fatalf("an emoji nobody uses any more stays: %+v", m.Reactions)
	}
	m.Deleted = true
	if _, err := React(m, "a", "👍", true); err == nil {
		t.Fatal("reacting to a tombstone succeeded")
	}
}

func TestTombstoneKeepsNoContent(t *testing.T) {
	m := &Message{ID: "m", ChatID: "c", AuthorID: "a", Content: "secret", ClientID: "k", CreatedAt: 5, EditedAt: 6,
		Attachment: &File{ID: "f"}, ParentID: "p", ReplyCount: 2, LastReplyAt: 7, Reactions: []Reaction{{Emoji: "👍"}}, Pinned: true}
	got := m.Tombstone()
	want := &Message{ID: "m", ChatID: "c", AuthorID: "a", CreatedAt: 5, Deleted: true, ParentID: "p", ReplyCount: 2, LastReplyAt: 7}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tombstone %+v, want %+v", got, want)
	}
}

func TestAddedMentions(t *testing.T) {
	if got := AddedMentions("hi @bob", "hi @Bob and @cat, @dan"); !slices.Equal(got, []string{"cat", "dan"}) {
		t.Fatalf("AddedMentions = %v", got)
	}
}
