package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	bbolt "go.etcd.io/bbolt"
)

// snapshotInfo is the store's SnapshotInfo as of now.
func snapshotInfo(t testing.TB, s backend.Snapshotter) backend.SnapshotInfo {
	t.Helper()
	var info backend.SnapshotInfo
	if err := s.Snapshot(context.Background(), func(i backend.SnapshotInfo, _ int64, _ io.WriterTo) error {
		info = i
		return nil
	}); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return info
}

// copyFixture copies testdata/name into a new temp dir and returns the copy's path.
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "herald.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// logBuffer is a slog logger into a buffer, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestSchemaVersionOfANewFile(t *testing.T) {
	e := newEnv(t)
	if v := snapshotInfo(t, e.s).SchemaVersion; v != bolt.SchemaVersion {
		t.Fatalf("new file: schema version %d, want %d", v, bolt.SchemaVersion)
	}
}

// A file written by the release before schema versions (testdata/v1.db, see TestWriteFixture)
// opens, is migrated to the current version once, and reads and writes as it did.
func TestSchemaOpenMigratesTodaysFile(t *testing.T) {
	path := copyFixture(t, "v1.db")
	if v := func() int {
		f, err := bolt.OpenFile(path, time.Second)
		if err != nil {
			t.Fatalf("OpenFile: %v", err)
		}
		defer f.Close()
		return snapshotInfo(t, f).SchemaVersion
	}(); v != 1 {
		t.Fatalf("the fixture reads as schema version %d, want 1", v)
	}
	logs := &logBuffer{}
	e := &env{t: t, path: path, clock: newClock(time.Now()), ctx: context.Background()}
	e.open(bolt.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if v := snapshotInfo(t, e.s).SchemaVersion; v != bolt.SchemaVersion {
		t.Fatalf("after Open: schema version %d, want %d", v, bolt.SchemaVersion)
	}
	if !strings.Contains(logs.String(), "from_version=1") {
		t.Errorf("no migration logged: %s", logs)
	}

	alice, err := e.s.UserByUsername(e.ctx, fixtureAdmin)
	wantNoError(t, err, "UserByUsername(alice)")
	bob, err := e.s.UserByUsername(e.ctx, fixtureMember)
	wantNoError(t, err, "UserByUsername(bob)")
	if alice.Role != backend.RoleAdmin {
		t.Errorf("alice's role %q, want admin", alice.Role)
	}
	chats, err := e.s.ChatsOf(e.ctx, bob.ID)
	wantNoError(t, err, "ChatsOf(bob)")
	var general *backend.Chat
	for _, c := range chats {
		if c.Chat.Name == fixtureChat {
			general = &c.Chat
		}
	}
	if general == nil || len(chats) != 2 {
		t.Fatalf("bob's chats: %d, #%s found: %v", len(chats), fixtureChat, general != nil)
	}
	msgs, _, err := e.s.Messages(e.ctx, general.ID, backend.MessagePage{Limit: 50})
	wantNoError(t, err, "Messages")
	if len(msgs) != fixtureMessages || msgs[0].Content != "message 0" || msgs[0].ReplyCount != 1 {
		t.Fatalf("history: %d messages, first %+v", len(msgs), msgs[0])
	}
	replies, _, err := e.s.Replies(e.ctx, general.ID, msgs[0].ID, backend.MessagePage{Limit: 50})
	wantNoError(t, err, "Replies")
	if len(replies) != 1 || replies[0].Content != fixtureReply {
		t.Fatalf("replies: %+v", replies)
	}
	if len(msgs[1].Reactions) != 1 || !msgs[2].Pinned {
		t.Errorf("reaction %+v, pinned %v", msgs[1].Reactions, msgs[2].Pinned)
	}
	if team, err := e.s.Team(e.ctx); err != nil || team.Name != "Fixture team" {
		t.Errorf("team %+v %v", team, err)
	}
	// The log replays from its first event, and new ids continue above the fixture's.
	last := e.lastEventID()
	if evs := e.eventsAfter(msgs[0].ID); len(evs) == 0 {
		t.Error("nothing in the log after the first message")
	}
	m := e.post(general, bob, "after the migration")
	if m.ID <= last {
		t.Fatalf("new id %s not above the fixture's last %s", m.ID, last)
	}
	// The per-stream index the migration built resumes exactly as the whole log does.
	wantScopeReadsMatchTheLog(t, e, []string{msgs[0].ID}, []*backend.User{alice, bob}, []*backend.Chat{general})

	// Reopening migrates nothing again.
	e.reopen(bolt.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if n := strings.Count(logs.String(), "migrated the store"); n != 1 {
		t.Errorf("%d migrations logged over two opens, want 1:\n%s", n, logs)
	}
	if v := snapshotInfo(t, e.s).SchemaVersion; v != bolt.SchemaVersion {
		t.Fatalf("after reopening: schema version %d", v)
	}
}

// A file of a newer schema version is refused with ErrSchemaTooNew, and not written to.
func TestSchemaOpenRefusesANewerFile(t *testing.T) {
	path := copyFixture(t, "v1.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schemaVersion"), []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	_, err = bolt.Open(path)
	if !errors.Is(err, bolt.ErrSchemaTooNew) || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("Open of a version 99 file: %v, want ErrSchemaTooNew naming the version", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("Open wrote to a file it refused")
	}
	if _, err := bolt.OpenFile(path, time.Second); !errors.Is(err, bolt.ErrSchemaTooNew) {
		t.Fatalf("OpenFile of a version 99 file: %v, want ErrSchemaTooNew", err)
	}
}
