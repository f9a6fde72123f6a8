package bolt_test

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
)

// writeFixture names the file TestWriteFixture writes. The committed testdata/v1.db was written
// by it at commit 79416d2, before stores had a schema version:
//
//	GOTOOLCHAIN=go1.26.11 go test ./backend/bolt -run TestWriteFixture -write-fixture testdata/v1.db
//
// Run today, it writes a file of the current schema version (testdata/vN.db): commit one before
// changing the schema, so that the next version's migration is tested against it.
var writeFixture = flag.String("write-fixture", "", "write a store fixture to this path (relative to backend/bolt) and pass")

// The fixture's content, which the tests that open it check.
const (
	fixtureAdmin    = "alice"
	fixtureMember   = "bob"
	fixtureChat     = "general"
	fixtureMessages = 3 // top-level messages in #general, "message 0" … "message 2"
	fixtureReply    = "a reply to message 0"
)

// fixtureTime is the fixture's clock: every id and timestamp in it is from this minute.
var fixtureTime = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// TestWriteFixture writes a small store with a bit of everything (an admin and a member, a
// channel with messages, a reply, a reaction, a pin, a read marker, a DM, preferences, team
// settings) to -write-fixture. Without the flag it does nothing.
func TestWriteFixture(t *testing.T) {
	if *writeFixture == "" {
		t.Skip("writes a fixture only with -write-fixture FILE")
	}
	path, err := filepath.Abs(*writeFixture)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	ctx := context.Background()
	clk := newClock(fixtureTime)
	s, err := bolt.Open(path, bolt.WithClock(clk.Now), bolt.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, path: path, clock: clk, pub: &recorder{}, s: s, ctx: ctx}
	alice, bob := e.admin(fixtureAdmin), e.member(fixtureMember)
	chat := &backend.Chat{Name: fixtureChat, Kind: backend.ChatChannel, CreatedBy: alice.ID, MemberIDs: []string{bob.ID}}
	if err := s.CreateChat(ctx, chat); err != nil {
		t.Fatal(err)
	}
	ids := e.postMany(chat, alice, fixtureMessages)
	clk.Advance(time.Second)
	if _, _, err := s.PostMessage(ctx, &backend.Message{ChatID: chat.ID, AuthorID: bob.ID, Content: fixtureReply, ParentID: ids[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.React(ctx, chat.ID, ids[1], bob.ID, "👍", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pin(ctx, chat.ID, ids[2], alice.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, bob.ID, chat.ID, ids[2]); err != nil {
		t.Fatal(err)
	}
	dm, _, err := s.CreateDM(ctx, alice.ID, []string{alice.ID, bob.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.post(dm, bob, "hi alice")
	prefs := backend.DefaultPreferences()
	prefs.Sounds = false
	if err := s.SetPreferences(ctx, bob.ID, prefs); err != nil {
		t.Fatal(err)
	}
	team, err := s.Team(ctx)
	if err != nil {
		t.Fatal(err)
	}
	team.Name = "Fixture team"
	if err := s.SetTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, fi.Size())
}
