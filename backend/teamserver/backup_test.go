package teamserver_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/backup"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/teamserver"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openServer opens a team server on dir (no network listener); it shuts down when the test ends
// unless the test shut it down (shutdown).
func openServer(t *testing.T, cfg teamserver.Config) (*teamserver.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	srv, err := teamserver.Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = shutdown(srv) })
	return srv, logs
}

var shutDown sync.Map // *teamserver.Server → struct{}, once shut down

// shutdown shuts srv down once.
func shutdown(srv *teamserver.Server) error {
	if _, done := shutDown.LoadOrStore(srv, struct{}{}); done {
		return nil
	}
	return srv.Shutdown(context.Background())
}

// fill gives the server a user, a chat and n messages; it returns the chat's id.
func fill(t *testing.T, s *bolt.Store, n int) string {
	t.Helper()
	ctx := context.Background()
	u := &backend.User{Username: "ann", DisplayName: "Ann", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u, ""); err != nil {
		t.Fatal(err)
	}
	c := &backend.Chat{Name: "ops", CreatedBy: u.ID}
	if err := s.CreateChat(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, _, err := s.PostMessage(ctx, &backend.Message{ChatID: c.ID, AuthorID: u.ID, Content: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}

// A running server holds its store's lock; BackupDataDir reaches it through the backup socket
// (mode 0600), and the archive restores into a data dir a server opens.
func TestBackupOfARunningServer(t *testing.T) {
	dir := t.TempDir()
	srv, logs := openServer(t, teamserver.Config{DataDir: dir})
	chat := fill(t, srv.Store, 5)
	sock := filepath.Join(dir, teamserver.BackupSocket)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup socket: %v %v, want a socket of mode 0600", fi, err)
	}
	to := filepath.Join(t.TempDir(), "herald.tar.gz")
	m, err := teamserver.BackupDataDir(context.Background(), dir, to)
	if err != nil {
		t.Fatalf("BackupDataDir: %v", err)
	}
	if !strings.Contains(logs.String(), "backup through the socket") {
		t.Fatalf("the backup did not come through the socket:\n%s", logs)
	}
	last, _ := srv.Store.LastEventID(context.Background())
	if m.LastEventID != last || m.Counts["messages"] != 5 || m.SchemaVersion != bolt.SchemaVersion {
		t.Fatalf("manifest %+v, the store's last event %s", m, last)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := teamserver.Restore(context.Background(), to, restored, backup.Limits{}); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if _, err := teamserver.Restore(context.Background(), to, restored, backup.Limits{}); err == nil {
		t.Fatal("a second Restore into the same (now full) dir succeeded")
	}
	srv2, _ := openServer(t, teamserver.Config{DataDir: restored})
	msgs, _, err := srv2.Store.Messages(context.Background(), chat, backend.MessagePage{Limit: 10})
	if err != nil || len(msgs) != 5 {
		t.Fatalf("restored history: %d %v", len(msgs), err)
	}
}

// Without a server, BackupDataDir opens the store file itself; Shutdown removed the socket.
func TestBackupWithoutAServer(t *testing.T) {
	dir := t.TempDir()
	srv, _ := openServer(t, teamserver.Config{DataDir: dir})
	fill(t, srv.Store, 3)
	if err := shutdown(srv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, teamserver.BackupSocket)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the socket survives Shutdown: %v", err)
	}
	// A socket left by a server that was killed answers nobody: the backup reads the file.
	ln, err := net.Listen("unix", filepath.Join(dir, teamserver.BackupSocket))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	m, err := teamserver.BackupDataDir(context.Background(), dir, filepath.Join(t.TempDir(), "b.tar.gz"))
	if err != nil || m.Counts["messages"] != 3 {
		t.Fatalf("BackupDataDir of a stopped server, beside a stale socket: %+v %v", m, err)
	}
	// A store held by a process that does not answer on the socket is refused, not waited for.
	held, err := bolt.Open(filepath.Join(dir, "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := teamserver.BackupDataDir(context.Background(), dir, filepath.Join(t.TempDir(), "c.tar.gz")); !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("BackupDataDir of a held store without a socket: %v, want ErrLocked", err)
	}
}

// BackupEvery writes backups into backups/ and keeps the newest BackupKeep; Shutdown stops it.
func TestBackupSchedule(t *testing.T) {
	dir := t.TempDir()
	srv, logs := openServer(t, teamserver.Config{DataDir: dir, BackupEvery: 20 * time.Millisecond, BackupKeep: 2})
	fill(t, srv.Store, 2)
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(logs.String(), "msg=\"scheduled backup\"") < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 4 scheduled backups in 20 s:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond) // polls the log for the schedule's progress
	}
	if err := shutdown(srv); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, teamserver.BackupsDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("backups/ holds %d entries after 4 backups with keep 2: %v", len(entries), entries)
	}
	for _, e := range entries { // no temp archive of a backup that Shutdown cut short
		if !strings.HasPrefix(e.Name(), "herald-") || !strings.HasSuffix(e.Name(), ".tar.gz") {
			t.Errorf("unexpected %s in backups/", e.Name())
		}
	}
	if spools, _ := filepath.Glob(filepath.Join(dir, ".herald-backup-*")); len(spools) > 0 {
		t.Errorf("spool files left in the data dir: %v", spools)
	}
	if n := strings.Count(logs.String(), "scheduled backup failed"); n > 0 {
		t.Errorf("%d scheduled backups failed:\n%s", n, logs)
	}
}

// What a backup that died with its process left (the store's spool copy, a temp archive) goes
// when the server opens the data dir again; other files in backups/ stay.
func TestBackupLeftoversGoOnOpen(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, teamserver.BackupsDir), 0o700); err != nil {
		t.Fatal(err)
	}
	left := []string{".herald-backup-123.db", "backups/.herald-20261202T170000.000Z.tar.gz.tmp-42"}
	kept := []string{"backups/herald-20261202T170000.000Z.tar.gz", "backups/notes.txt"}
	for _, name := range append(left, kept...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	openServer(t, teamserver.Config{DataDir: dir})
	for _, name := range left {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survives Open: %v", name, err)
		}
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
