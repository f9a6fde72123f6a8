package bolt_test

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// Twenty requests for the same people at once make one DM: the committer runs them one after the
// other, and each looks the member set up in the same transaction that would create it.
func TestCreateDMConcurrentlyMakesOne(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	const n = 20
	ids := make([]string, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			creator, others := us[i%3], []string{us[(i+1)%3].ID, us[(i+2)%3].ID}
			c, made, err := e.s.CreateDM(e.ctx, creator.ID, others)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], created[i] = c.ID, made
		})
	}
	wg.Wait()
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 1 || ids[0] == "" {
		t.Fatalf("DM ids: %v", ids)
	}
	if k := len(slices.DeleteFunc(slices.Clone(created), func(b bool) bool { return !b })); k != 1 {
		t.Fatalf("%d calls created the DM, want 1", k)
	}
	dm, err := e.s.Chat(e.ctx, ids[0])
	wantNoError(t, err, "Chat")
	if dm.Kind != backend.ChatDM || dm.Name != "" || len(dm.MemberIDs) != 3 || len(dm.OwnerIDs) != 0 {
		t.Fatalf("dm = %+v", *dm)
	}
	// A subset is another DM; too many people or only oneself is EINVALID; an unknown user ENOTFOUND.
	pair, made, err := e.s.CreateDM(e.ctx, us[0].ID, []string{us[1].ID})
	wantNoError(t, err, "CreateDM pair")
	if !made || pair.ID == dm.ID {
		t.Fatalf("pair DM %+v made=%v", *pair, made)
	}
	_, _, err = e.s.CreateDM(e.ctx, us[0].ID, []string{us[0].ID})
	wantCode(t, err, backend.EINVALID)
	_, _, err = e.s.CreateDM(e.ctx, us[0].ID, []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV"})
	wantCode(t, err, backend.ENOTFOUND)
}

// A chat record from before kinds reads as a private chat owned by its creator, and Open indexes
// its name so that it is unique from then on.
func TestOpenMigratesChatsToPrivate(t *testing.T) {
	e := newEnv(t)
	ann := e.admin("ann")
	bea := e.member("bea")
	old := e.chat("Ops", ann, bea)
	twin := e.chat("ops-twin", ann)
	e.s.Close()
	e.noReplica()
	db, err := bbolt.Open(e.path, 0o600, nil)
	wantNoError(t, err, "bbolt.Open")
	wantNoError(t, db.Update(func(tx *bbolt.Tx) error {
		// Write both chats as the older server did: no kind, topic, owners or archive, and two
		// chats of the same name (which it allowed).
		for _, c := range []*backend.Chat{old, twin} {
			rec := map[string]any{"id": c.ID, "name": "Ops", "memberIds": c.MemberIDs, "createdBy": c.CreatedBy, "createdAt": c.CreatedAt}
			data, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := tx.Bucket([]byte("chats")).Put([]byte(c.ID), data); err != nil {
				return err
			}
		}
		// Files of that time had no schema version (version 1: Open migrates them).
		if err := tx.Bucket([]byte("meta")).Delete([]byte("schemaVersion")); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("chatnames"))
	}), "write old records")
	wantNoError(t, db.Close(), "Close")
	e.open()

	got, err := e.s.Chat(e.ctx, old.ID)
	wantNoError(t, err, "Chat")
	if got.Kind != backend.ChatPrivate || !slices.Equal(got.OwnerIDs, []string{ann.ID}) || got.Archived || got.Topic != "" {
		t.Fatalf("migrated chat = %+v", *got)
	}
	sums := e.summaries(bea.ID)
	if s := sums[old.ID]; s == nil || s.Kind != backend.ChatPrivate {
		t.Fatalf("ChatsOf: %+v", s)
	}
	// The oldest holds the name; the twin keeps its name until renamed.
	wantCode(t, e.s.CreateChat(e.ctx, &backend.Chat{Name: "OPS", CreatedBy: bea.ID}), backend.ECONFLICT)
	name := "ops"
	_, err = e.s.UpdateChat(e.ctx, twin.ID, ann.ID, backend.ChatChange{Name: &name})
	wantCode(t, err, backend.ECONFLICT)
	name = "ops two"
	_, err = e.s.UpdateChat(e.ctx, twin.ID, ann.ID, backend.ChatChange{Name: &name})
	wantNoError(t, err, "rename the twin")
	// Any member may still add members to a private chat, as before kinds.
	cat := e.member("cat")
	_, err = e.s.AddMember(e.ctx, old.ID, bea.ID, cat.ID)
	wantNoError(t, err, "AddMember by a member of a private chat")
}

func TestRemoveMemberEvents(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	owner, member, other := us[1], us[2], us[0]
	ch := &backend.Chat{Name: "dev", Kind: backend.ChatChannel, CreatedBy: owner.ID, MemberIDs: []string{member.ID}}
	wantNoError(t, e.s.CreateChat(e.ctx, ch), "CreateChat")

	_, err := e.s.RemoveMember(e.ctx, ch.ID, member.ID, owner.ID)
	wantCode(t, err, backend.EFORBIDDEN) // a member is no owner
	before := e.pub.Len()
	got, err := e.s.RemoveMember(e.ctx, ch.ID, owner.ID, member.ID)
	wantNoError(t, err, "RemoveMember")
	if got.HasMember(member.ID) {
		t.Fatalf("still a member: %+v", *got)
	}
	evs := e.pub.Events()[before:]
	if len(evs) != 2 || evs[0].Type != backend.EventChatMemberRemoved || evs[1].Type != backend.EventChatUpdated {
		t.Fatalf("events %v", eventTypes(evs))
	}
	if !slices.Equal(evs[0].Recipients, []string{owner.ID, member.ID}) || evs[0].UserID != member.ID {
		t.Errorf("CHAT_MEMBER_REMOVED %+v", *evs[0])
	}
	if !slices.Equal(evs[1].Recipients, []string{owner.ID}) {
		t.Errorf("CHAT_UPDATED recipients %v", evs[1].Recipients)
	}
	// From the log, the removed member still gets their removal, and nothing else of the chat.
	for _, ev := range e.eventsAfter(evs[0].ID) {
		if ev.ChatID == ch.ID && slices.Contains(ev.Recipients, member.ID) {
			t.Errorf("logged %s after the removal goes to the removed member", ev.Type)
		}
	}
	logged := e.eventsAfter(e.pub.Events()[before-1].ID)
	if logged[0].Type != backend.EventChatMemberRemoved || !slices.Contains(logged[0].Recipients, member.ID) {
		t.Errorf("logged removal %+v", *logged[0])
	}
	_, _, err = e.s.PostMessage(e.ctx, &backend.Message{ChatID: ch.ID, AuthorID: member.ID, Content: "hi"})
	wantCode(t, err, backend.EFORBIDDEN)
	// Removing again changes nothing; an admin who is no member may remove.
	before = e.pub.Len()
	_, err = e.s.RemoveMember(e.ctx, ch.ID, owner.ID, member.ID)
	wantNoError(t, err, "RemoveMember again")
	if e.pub.Len() != before {
		t.Errorf("removing a non-member emitted events")
	}
	_, _, err = e.s.JoinChat(e.ctx, ch.ID, other.ID)
	wantNoError(t, err, "JoinChat")
	_, err = e.s.RemoveMember(e.ctx, ch.ID, other.ID, owner.ID)
	wantNoError(t, err, "admin removes the owner")
	c, err := e.s.Chat(e.ctx, ch.ID)
	wantNoError(t, err, "Chat")
	if len(c.OwnerIDs) != 0 || !slices.Equal(c.MemberIDs, []string{other.ID}) {
		t.Errorf("after removing the owner: %+v", *c)
	}
}

func TestArchivedChatRefusesWrites(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	chat := e.chat("ops", us[1], us[0])
	m := e.post(chat, us[0], "hello")
	yes, no := true, false
	_, err := e.s.UpdateChat(e.ctx, chat.ID, us[1].ID, backend.ChatChange{Archived: &yes})
	wantNoError(t, err, "archive")
	_, _, err = e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: us[0].ID, Content: "more"})
	wantCode(t, err, backend.ECONFLICT)
	_, err = e.s.EditMessage(e.ctx, chat.ID, m.ID, us[0].ID, "edited")
	wantCode(t, err, backend.ECONFLICT)
	_, err = e.s.React(e.ctx, chat.ID, m.ID, us[0].ID, "👍", true)
	wantCode(t, err, backend.ECONFLICT)
	_, err = e.s.AddMember(e.ctx, chat.ID, us[1].ID, us[0].ID)
	wantCode(t, err, backend.ECONFLICT)
	_, err = e.s.UpdateChat(e.ctx, chat.ID, us[1].ID, backend.ChatChange{Archived: &no})
	wantNoError(t, err, "unarchive")
	e.post(chat, us[0], "back")
}
