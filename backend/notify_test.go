package backend_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// A small team for the notification rules: alice writes; bob and carol are people; deploybot is
// a bot and gone a deactivated account (both quiet); zed has an account but is in no chat.
// robert resolves to bob's account too, as a second name of one account would.
var (
	usernames = map[string]string{"alice": "a", "bob": "b", "robert": "b", "carol": "c", "deploybot": "bot", "gone": "gone", "zed": "z"}
	quietIDs  = map[string]bool{"bot": true, "gone": true}
)

func userID(name string) string { return usernames[name] }

func quiet(id string) (bool, error) { return quietIDs[id], nil }

// recipients formats rs as "id:kind id:kind", in order.
func recipients(rs []backend.Recipient) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.UserID + ":" + string(r.Kind)
	}
	return strings.Join(parts, " ")
}

// crowd is a channel of n members m0…m(n-1); m7 is also known as @u7.
func crowd(n int) *backend.Chat {
	c := &backend.Chat{ID: "big", Kind: backend.ChatChannel, Name: "everyone"}
	for i := range n {
		c.MemberIDs = append(c.MemberIDs, fmt.Sprintf("m%d", i))
	}
	return c
}

func TestPostRecipients(t *testing.T) {
	ops := &backend.Chat{ID: "ops", Kind: backend.ChatChannel, Name: "ops", MemberIDs: []string{"a", "b", "c", "bot", "gone"}}
	dm := &backend.Chat{ID: "dm", Kind: backend.ChatDM, MemberIDs: []string{"a", "b"}}
	parent := &backend.Message{ID: "p", ChatID: "ops", AuthorID: "c"}
	atLimit, overLimit := crowd(backend.MessageNotifyLimit), crowd(backend.MessageNotifyLimit+1)
	everyoneBut0 := func(c *backend.Chat) string {
		var want []string
		for _, id := range c.MemberIDs[1:] {
			want = append(want, id+":message")
		}
		return strings.Join(want, " ")
	}
	tests := []struct {
		name      string
		chat      *backend.Chat
		author    string
		content   string
		parent    *backend.Message
		alsoTo    bool
		followers []string
		want      string
	}{
		{"every other member, in member order; not the author, bots or deactivated accounts",
			ops, "a", "deploying now", nil, false, nil, "b:message c:message"},
		{"a mentioned member gets the mention instead of the message, before the others",
			ops, "a", "deploying now @carol", nil, false, nil, "c:mention b:message"},
		{"mentions in order of first mention, once each, whatever their case",
			ops, "a", "@Carol and @bob, again @carol", nil, false, nil, "c:mention b:mention"},
		{"two names of one account notify it once", ops, "a", "@bob @robert", nil, false, nil, "b:mention c:message"},
		{"naming oneself is no mention", ops, "a", "@alice here", nil, false, nil, "b:message c:message"},
		{"non-members and unknown names get nothing",
			ops, "a", "@zed @nobody look", nil, false, nil, "b:message c:message"},
		{"a bot and a deactivated account are notified when named",
			ops, "a", "@deploybot @gone deploy", nil, false, nil, "bot:mention gone:mention b:message c:message"},
		{"an address is no mention", ops, "a", "mail bob@example.com", nil, false, nil, "b:message c:message"},
		{"a reply notifies the thread's other followers who are members and not quiet, and nobody else",
			ops, "a", "done", parent, false, []string{"a", "bot", "c", "gone", "left"}, "c:reply"},
		{"a reply also sent to the chat notifies followers as replies, the rest as messages",
			ops, "a", "done", parent, true, []string{"a", "c"}, "c:reply b:message"},
		{"a mentioned follower gets the mention only", ops, "a", "@carol done", parent, true, []string{"a", "c"}, "c:mention b:message"},
		{"a reply's mention of a non-follower", ops, "a", "@bob see", parent, false, []string{"a", "c"}, "b:mention c:reply"},
		{"a reply by the only follower notifies nobody", ops, "c", "note to self", parent, false, []string{"c"}, ""},
		{"a direct message notifies the other person", dm, "a", "hi", nil, false, nil, "b:message"},
		{"a chat of MessageNotifyLimit members notifies each other member", atLimit, "m0", "hi", nil, false, nil, everyoneBut0(atLimit)},
		{"a larger chat notifies nobody of a plain message", overLimit, "m0", "hello all", nil, false, nil, ""},
		{"a larger chat still notifies mentions", overLimit, "m0", "@u7 see this", nil, false, nil, "m7:mention"},
		{"a larger chat still notifies a thread's followers, also of a reply sent to the chat",
			overLimit, "m0", "done", &backend.Message{ID: "p", AuthorID: "m3"}, true, []string{"m0", "m3"}, "m3:reply"},
		{"a member alone in a chat notifies nobody", &backend.Chat{ID: "solo", MemberIDs: []string{"a"}}, "a", "@alice", nil, false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := &backend.Message{ID: "m", ChatID: tt.chat.ID, AuthorID: tt.author, Content: tt.content, AlsoToChat: tt.alsoTo}
			if tt.parent != nil {
				msg.ParentID = tt.parent.ID
			}
			lookup := func(name string) string {
				if id := userID(name); id != "" || !strings.HasPrefix(name, "u") {
					return id
				}
				return "m" + name[1:] // @u7 is m7 of a crowd
			}
			rs, err := backend.PostRecipients(backend.MessageAudience{Chat: tt.chat, Message: msg, Parent: tt.parent,
				Followers: tt.followers, UserID: lookup, Quiet: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if got := recipients(rs); got != tt.want {
				t.Errorf("recipients\n got %q\nwant %q", got, tt.want)
			}
			if tt.want == "" && rs != nil {
				t.Errorf("recipients %#v, want nil", rs)
			}
		})
	}
}

// Quiet's error ends the decision: the store's transaction fails rather than skip a member.
func TestPostRecipientsReturnsQuietsError(t *testing.T) {
	chat := &backend.Chat{ID: "ops", MemberIDs: []string{"a", "b", "c"}}
	broken := errors.New("decode user c")
	var asked []string
	_, err := backend.PostRecipients(backend.MessageAudience{Chat: chat, Message: &backend.Message{ID: "m", AuthorID: "a", Content: "@bob hi"},
		UserID: userID, Quiet: func(id string) (bool, error) {
			asked = append(asked, id)
			if id == "c" {
				return false, broken
			}
			return false, nil
		}})
	if !errors.Is(err, broken) {
		t.Fatalf("error %v, want %v", err, broken)
	}
	// Neither the author nor bob, mentioned already, needed asking.
	if fmt.Sprint(asked) != "[c]" {
		t.Errorf("Quiet asked about %v, want only c", asked)
	}
}

// The post path is hot: deciding costs the same few allocations in a chat of 2 or of
// MessageNotifyLimit members, none per member.
func TestPostRecipientsAllocatesNothingPerMember(t *testing.T) {
	for _, n := range []int{2, backend.MessageNotifyLimit} {
		chat := crowd(n)
		a := backend.MessageAudience{Chat: chat, Message: &backend.Message{ID: "m", AuthorID: "m0", Content: "hello @bob"},
			UserID: userID, Quiet: quiet}
		allocs := testing.AllocsPerRun(100, func() {
			if rs, err := backend.PostRecipients(a); err != nil || len(rs) != n-1 {
				t.Fatalf("%d recipients, %v", len(rs), err)
			}
		})
		if allocs > 3 {
			t.Errorf("chat of %d: %.0f allocations per decision, want at most 3", n, allocs)
		}
	}
}

func TestEditRecipients(t *testing.T) {
	chat := &backend.Chat{ID: "ops", MemberIDs: []string{"a", "b", "c", "bot"}}
	tests := []struct {
		name, before, after string
		want                string
	}{
		{"a name added to the text is mentioned", "hi @bob", "hi @bob and @carol", "c:mention"},
		{"a name mentioned before is not mentioned again, whatever its case", "hi @bob", "hi @BOB!", ""},
		{"an edit notifies nobody else", "hi", "hello", ""},
		{"a bot named in the edit is mentioned", "deploy", "deploy @deploybot", "bot:mention"},
		{"naming oneself or a non-member in an edit", "x", "@alice @zed @nobody", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := &backend.Message{ID: "m", ChatID: chat.ID, AuthorID: "a", Content: tt.after}
			rs := backend.EditRecipients(chat, msg, tt.before, userID)
			if got := recipients(rs); got != tt.want {
				t.Errorf("recipients %q, want %q", got, tt.want)
			}
			if tt.want == "" && rs != nil {
				t.Errorf("recipients %#v, want nil", rs)
			}
		})
	}
}

func TestMessageNotification(t *testing.T) {
	ops := &backend.Chat{ID: "C1", Kind: backend.ChatChannel, Name: "ops"}
	dm := &backend.Chat{ID: "D1", Kind: backend.ChatDM}
	top := &backend.Message{ID: "M1", ChatID: "C1", AuthorID: "A", Content: "deploying now"}
	reply := &backend.Message{ID: "M2", ChatID: "C1", AuthorID: "A", Content: "done", ParentID: "M1", AlsoToChat: true}
	tests := []struct {
		name       string
		kind       backend.NotificationKind
		chat       *backend.Chat
		msg        *backend.Message
		wantEvent  backend.EventType
		wantTitle  string
		wantLink   string
		wantParent string
		// wantBreak is what breaking through needs: a channel's messages and replies never do.
		wantBreak backend.BreakThrough
	}{
		{"message", backend.KindMessage, ops, top, backend.EventNotification, "Ann in #ops", "/chats/C1?message=M1", "", ""},
		{"message in a DM", backend.KindMessage, dm, &backend.Message{ID: "M3", ChatID: "D1", AuthorID: "A", Content: "hi", NotifyAnyway: true},
			backend.EventNotification, "Ann in a direct message", "/chats/D1?message=M3", "", backend.BreakThroughDMs},
		{"mention", backend.KindMention, ops, top, backend.EventMention, "Ann mentioned you in #ops", "/chats/C1?message=M1", "",
			backend.BreakThroughAlways},
		{"mention in a reply names its thread", backend.KindMention, ops, reply, backend.EventMention, "Ann mentioned you in #ops",
			"/chats/C1?message=M2&thread=M1", "M1", backend.BreakThroughAlways},
		{"reply", backend.KindReply, ops, reply, backend.EventNotification, "Ann replied in #ops", "/chats/C1?message=M2&thread=M1", "M1", ""},
		// Read in the chat's history, not in the thread: marking the chat read marks it read.
		{"a reply sent to the chat, as a message", backend.KindMessage, ops, reply, backend.EventNotification, "Ann in #ops",
			"/chats/C1?message=M2&thread=M1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			note := backend.MessageNotification(tt.kind, tt.chat, tt.msg, "Ann")
			n := note.Notification
			want := backend.Notification{Type: tt.kind, Title: tt.wantTitle, Body: tt.msg.Content, Link: tt.wantLink, ChatID: tt.chat.ID,
				MessageID: tt.msg.ID, ParentID: tt.wantParent, ActorID: "A"}
			if note.Event != tt.wantEvent || n != want {
				t.Errorf("%s %+v\nwant %s %+v", note.Event, n, tt.wantEvent, want)
			}
			wantNotice := backend.Notice{Kind: tt.kind, ChatID: tt.chat.ID, ChatName: tt.chat.Name, NotifyAnyway: tt.msg.NotifyAnyway,
				BreakThrough: tt.wantBreak, ActorName: "Ann"}
			if note.Notice != wantNotice {
				t.Errorf("notice %+v, want %+v", note.Notice, wantNotice)
			}
		})
	}
}

func TestMessageNotificationBodyIsCut(t *testing.T) {
	chat := &backend.Chat{ID: "C1", Name: "ops"}
	for _, tt := range []struct {
		content, want string
	}{
		{strings.Repeat("é", backend.MessageSummaryLen), strings.Repeat("é", backend.MessageSummaryLen)},
		{strings.Repeat("é", backend.MessageSummaryLen+1), strings.Repeat("é", backend.MessageSummaryLen-1) + "…"},
	} {
		msg := &backend.Message{ID: "M1", ChatID: "C1", AuthorID: "A", Content: tt.content}
		if got := backend.MessageNotification(backend.KindMessage, chat, msg, "Ann").Notification.Body; got != tt.want {
			t.Errorf("body of %d characters: %d characters %q…", len([]rune(tt.content)), len([]rune(got)), got[:8])
		}
	}
}

func TestFileProcessedNotification(t *testing.T) {
	tests := []struct {
		file backend.File
		want backend.Notification
	}{
		{backend.File{Name: "report.pdf", ChatID: "C1", Status: backend.FileReady},
			backend.Notification{Type: backend.KindFile, Title: "report.pdf is ready", Link: "/chats/C1", ChatID: "C1"}},
		{backend.File{Name: "big.zip", ChatID: "C1", Status: backend.FileFailed, Error: "too large"},
			backend.Notification{Type: backend.KindFile, Title: "big.zip could not be processed", Body: "too large", Link: "/chats/C1", ChatID: "C1"}},
	}
	for _, tt := range tests {
		if got := backend.FileProcessedNotification(&tt.file); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.file.Status, got, tt.want)
		}
	}
}

func TestAgentStatusNotification(t *testing.T) {
	got := backend.AgentStatusNotification(&backend.User{ID: "B", DisplayName: "CI bot"}, backend.StatusBusy)
	if want := (backend.Notification{Type: backend.KindAgent, Title: "CI bot is busy", ActorID: "B"}); got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
}
