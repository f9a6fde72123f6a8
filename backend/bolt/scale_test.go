package bolt_test

// Costs that grow with a team: who hears of presence, and counting chats without reading them.

import (
	"slices"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// A person's presence reaches those who share a chat of at most backend.PresenceAudienceLimit
// members with them, not the members of a bigger channel; once that channel is small enough,
// its members hear of it again (the chat's size is kept current by its writes).
func TestPresenceReachesOnlyChatsUpToTheAudienceLimit(t *testing.T) {
	e := newEnv(t)
	us := e.users(backend.PresenceAudienceLimit + 2)
	big := e.chat("everyone", us[0], us[1:]...)
	e.chat("small", us[1], us[2])
	statusTo := func(u *backend.User, status backend.AgentStatus) []string {
		t.Helper()
		before := e.pub.Len()
		if _, err := e.s.SetStatus(e.ctx, u.ID, status); err != nil {
			t.Fatalf("SetStatus(%s): %v", u.Username, err)
		}
		for _, ev := range e.pub.Events()[before:] {
			if ev.Type == backend.EventAgentStatusChanged && ev.Agent.ID == u.ID {
				got := slices.Clone(ev.Recipients)
				slices.Sort(got)
				return got
			}
		}
		t.Fatalf("no AGENT_STATUS_CHANGED for %s", u.Username)
		return nil
	}
	want := []string{us[1].ID, us[2].ID}
	slices.Sort(want)
	if got := statusTo(us[1], backend.StatusOnline); !slices.Equal(got, want) {
		t.Fatalf("with a channel of %d: presence to %d people, want the 2 of the small chat", len(us), len(got))
	}
	// Two leave: the channel is at the limit, and everyone in it hears again.
	for _, u := range us[len(us)-2:] {
		if _, err := e.s.RemoveMember(e.ctx, big.ID, us[0].ID, u.ID); err != nil {
			t.Fatalf("RemoveMember: %v", err)
		}
	}
	if got := statusTo(us[1], backend.StatusOffline); len(got) != backend.PresenceAudienceLimit {
		t.Fatalf("with a channel of %d: presence to %d people, want all of them", backend.PresenceAudienceLimit, len(got))
	}
}

// ChatCount counts a user's memberships, as ChatsOf lists them.
func TestChatCountMatchesChatsOf(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	e.chat("one", us[0], us[1])
	e.chat("two", us[1], us[2])
	for _, u := range us {
		chats, err := e.s.ChatsOf(e.ctx, u.ID)
		wantNoError(t, err, "ChatsOf")
		n, err := e.s.ChatCount(e.ctx, u.ID)
		wantNoError(t, err, "ChatCount")
		if n != len(chats) {
			t.Errorf("%s: ChatCount %d, ChatsOf lists %d", u.Username, n, len(chats))
		}
	}
}

// A status that does not change (a reconnect within the presence grace) costs no commit.
func TestUnchangedStatusCommitsNothing(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	changed, err := e.s.SetStatus(e.ctx, us[1].ID, backend.StatusOnline)
	wantNoError(t, err, "SetStatus")
	if !changed {
		t.Fatal("offline → online reported unchanged")
	}
	before := e.s.Commits()
	changed, err = e.s.SetStatus(e.ctx, us[1].ID, backend.StatusOnline)
	wantNoError(t, err, "SetStatus again")
	if changed || e.s.Commits() != before {
		t.Fatalf("online → online: changed %v, %d commits", changed, e.s.Commits()-before)
	}
}
