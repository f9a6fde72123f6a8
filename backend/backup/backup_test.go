package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/backup"
	"github.com/herald-chat/herald/backend/bolt"
)

// dataDir is a data dir with a store (a user, a chat, three messages), stored files, an upload
// in progress and a certificate.
type dataDir struct {
	dir   string
	store *bolt.Store
	chat  string
	files map[string][]byte // name in files/ → content, of those a backup carries
}

func newDataDir(t *testing.T) *dataDir {
	t.Helper()
	d := &dataDir{dir: t.TempDir(), files: map[string][]byte{}}
	s, err := bolt.Open(filepath.Join(d.dir, "herald.db"), bolt.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d.store = s
	ctx := context.Background()
	u := &backend.User{Username: "ann", DisplayName: "Ann", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u, ""); err != nil {
		t.Fatal(err)
	}
	c := &backend.Chat{Name: "ops", CreatedBy: u.ID}
	if err := s.CreateChat(ctx, c); err != nil {
		t.Fatal(err)
	}
	d.chat = c.ID
	for _, content := range []string{"one", "two", "three"} {
		if _, _, err := s.PostMessage(ctx, &backend.Message{ChatID: c.ID, AuthorID: u.ID, Content: content}); err != nil {
			t.Fatal(err)
		}
	}
	files := filepath.Join(d.dir, "files")
	if err := os.MkdirAll(filepath.Join(files, "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"01JDQ7X3K9V2M4T8E6R5N0PZ1A": "the bytes of an upload", "01JDQ7X3K9V2M4T8E6R5N0PZ1A.thumb.png": "a thumbnail",
	} {
		d.files[name] = []byte(content)
		if err := os.WriteFile(filepath.Join(files, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"files/upload-123.part": "half an upload", "tls-cert.pem": "CERT", "tls-key.pem": "KEY", "search/x": "index"} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(d.dir, name)), 0o700)
		if err := os.WriteFile(filepath.Join(d.dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestBackupRoundTrip(t *testing.T) {
	d := newDataDir(t)
	ctx := context.Background()
	archive := filepath.Join(t.TempDir(), "herald.tar.gz")
	now := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	m, err := backup.WriteFile(ctx, archive, d.store, backup.Options{DataDir: d.dir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	last, _ := d.store.LastEventID(ctx)
	if m.SchemaVersion != bolt.SchemaVersion || m.LastEventID != last || !m.CreatedAt.Equal(now) ||
		m.Counts["messages"] != 3 || m.Counts["users"] != 1 || m.Counts["storedFiles"] != 2 {
		t.Fatalf("manifest %+v (last event %s)", m, last)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v %v, want mode 0600", fi, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(d.dir, ".herald-backup-*")); len(leftovers) > 0 {
		t.Errorf("spool files left behind: %v", leftovers)
	}
	if v, err := backup.VerifyFile(ctx, archive, backup.Limits{}); err != nil || v.LastEventID != m.LastEventID {
		t.Fatalf("VerifyFile: %+v %v", v, err)
	}

	target := filepath.Join(t.TempDir(), "restored")
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checked := false
	r, err := backup.Restore(ctx, f, target, backup.RestoreOptions{Check: func(dir string, m *backup.Manifest) error {
		checked = true
		file, err := bolt.OpenFile(filepath.Join(dir, backup.DBName), time.Second)
		if err != nil {
			return err
		}
		return file.Close()
	}})
	if err != nil || !checked {
		t.Fatalf("Restore: %v (checked %v)", err, checked)
	}
	if r.LastEventID != m.LastEventID {
		t.Errorf("restored manifest %+v", r)
	}
	for name, want := range d.files {
		if got, err := os.ReadFile(filepath.Join(target, "files", name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("files/%s: %q %v", name, got, err)
		}
	}
	for name, want := range map[string]string{"tls-cert.pem": "CERT", "tls-key.pem": "KEY"} {
		if got, err := os.ReadFile(filepath.Join(target, name)); err != nil || string(got) != want {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	for _, gone := range []string{"files/upload-123.part", "files/subdir", "search"} {
		if _, err := os.Stat(filepath.Join(target, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was restored: %v", gone, err)
		}
	}
	s, err := bolt.Open(filepath.Join(target, "herald.db"), bolt.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("open the restored store: %v", err)
	}
	defer s.Close()
	msgs, _, err := s.Messages(ctx, d.chat, backend.MessagePage{Limit: 10})
	if err != nil || len(msgs) != 3 || msgs[2].Content != "three" {
		t.Fatalf("restored messages %v %v", msgs, err)
	}
	if got, _ := s.LastEventID(ctx); got != m.LastEventID {
		t.Errorf("restored log ends at %s, manifest says %s", got, m.LastEventID)
	}
}

// entry is one member of a hand-made archive.
type entry struct {
	name     string
	typeflag byte
	body     string
	size     int64 // header size when body is not the content (0: len(body))
	linkname string
}

// makeArchive builds an archive of entries and, unless manifest is nil, a manifest of them
// (edit mutates it first).
func makeArchive(t *testing.T, entries []entry, withManifest bool, edit func(*backup.Manifest)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	m := &backup.Manifest{Format: backup.Format, FormatVersion: backup.FormatVersion, SchemaVersion: 2, Counts: map[string]int{}}
	for _, e := range entries {
		typ := e.typeflag
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.body))
		if typ != tar.TypeReg {
			size = 0
		}
		if e.size != 0 {
			size = e.size
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: typ, Size: size, Mode: 0o600, Linkname: e.linkname}); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if e.size != 0 {
				if _, err := io.CopyN(tw, zeros{}, e.size); err != nil {
					t.Fatal(err)
				}
			} else if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
			h := sha256.Sum256([]byte(e.body))
			m.Entries = append(m.Entries, backup.Entry{Name: e.name, Size: size, SHA256: hex.EncodeToString(h[:])})
		}
	}
	if withManifest {
		if edit != nil {
			edit(m)
		}
		body, _ := json.Marshal(m)
		if err := tw.WriteHeader(&tar.Header{Name: backup.ManifestName, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o600}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Restore refuses every archive that is not a complete, untouched backup, and leaves nothing
// behind: no target, no staging directory, nothing outside the target.
func TestBackupRestoreRefusesBadArchives(t *testing.T) {
	db := entry{name: "herald.db", body: "a store"}
	good := makeArchive(t, []entry{db}, true, nil)
	cases := map[string][]byte{
		"parent path":       makeArchive(t, []entry{db, {name: "../evil", body: "x"}}, true, nil),
		"files parent path": makeArchive(t, []entry{db, {name: "files/../../evil", body: "x"}}, true, nil),
		"absolute path":     makeArchive(t, []entry{db, {name: "/tmp/evil", body: "x"}}, true, nil),
		"nested files path": makeArchive(t, []entry{db, {name: "files/a/b", body: "x"}}, true, nil),
		"hidden file":       makeArchive(t, []entry{db, {name: "files/.x", body: "x"}}, true, nil),
		"unknown name":      makeArchive(t, []entry{db, {name: "search/index", body: "x"}}, true, nil),
		"symlink":           makeArchive(t, []entry{db, {name: "files/link", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"}}, true, nil),
		"hard link":         makeArchive(t, []entry{db, {name: "files/link", typeflag: tar.TypeLink, linkname: "herald.db"}}, true, nil),
		"directory":         makeArchive(t, []entry{db, {name: "files/", typeflag: tar.TypeDir}}, true, nil),
		"duplicate":         makeArchive(t, []entry{db, db}, true, nil),
		"no manifest":       makeArchive(t, []entry{db}, false, nil),
		"no store":          makeArchive(t, []entry{{name: "files/x", body: "x"}}, true, nil),
		"altered entry":     makeArchive(t, []entry{db}, true, func(m *backup.Manifest) { m.Entries[0].SHA256 = strings.Repeat("0", 64) }),
		"missing entry":     makeArchive(t, []entry{db}, true, func(m *backup.Manifest) { m.Entries = append(m.Entries, backup.Entry{Name: "files/y", Size: 1}) }),
		"newer format":      makeArchive(t, []entry{db}, true, func(m *backup.Manifest) { m.FormatVersion = 99 }),
		"other format":      makeArchive(t, []entry{db}, true, func(m *backup.Manifest) { m.Format = "tarball" }),
		"inflates too much": makeArchive(t, []entry{db, {name: "files/bomb", size: 2 << 20}}, true, nil),
		"truncated":         good[:len(good)/2],
		"not gzip":          []byte("herald.db\x00\x00\x00"),
		"entry after the manifest": func() []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			tw := tar.NewWriter(zw)
			for _, name := range []string{"herald.db", backup.ManifestName, "files/x"} {
				tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: 1, Mode: 0o600})
				tw.Write([]byte("{"))
			}
			tw.Close()
			zw.Close()
			return buf.Bytes()
		}(),
	}
	for name, archive := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			target := filepath.Join(parent, "data")
			_, err := backup.Restore(context.Background(), bytes.NewReader(archive), target, backup.RestoreOptions{Limits: backup.Limits{MaxBytes: 1 << 20}})
			if !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("Restore: %v, want ErrInvalid", err)
			}
			t.Log(err)
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(parent), "evil")); err == nil {
				t.Fatal("wrote outside the target")
			}
		})
	}
	if _, err := backup.Restore(context.Background(), bytes.NewReader(good), filepath.Join(t.TempDir(), "data"), backup.RestoreOptions{}); err != nil {
		t.Fatalf("the good archive: %v", err)
	}
	many := make([]entry, 0, 12)
	many = append(many, db)
	for i := range 11 {
		many = append(many, entry{name: "files/f" + string(rune('a'+i)), body: "x"})
	}
	if _, err := backup.Restore(context.Background(), bytes.NewReader(makeArchive(t, many, true, nil)), filepath.Join(t.TempDir(), "data"),
		backup.RestoreOptions{Limits: backup.Limits{MaxEntries: 10}}); !errors.Is(err, backup.ErrInvalid) {
		t.Fatalf("12 entries with MaxEntries 10: %v", err)
	}
}

func TestBackupRestoreRefusesANonEmptyDir(t *testing.T) {
	target := t.TempDir()
	if err := os.WriteFile(filepath.Join(target, "herald.db"), []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := makeArchive(t, []entry{{name: "herald.db", body: "a store"}}, true, nil)
	if _, err := backup.Restore(context.Background(), bytes.NewReader(archive), target, backup.RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Restore into a non-empty dir: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(target, "herald.db")); string(got) != "precious" {
		t.Fatal("the existing data was touched")
	}
	// An empty existing dir is fine; a Check that refuses leaves it empty.
	empty := t.TempDir()
	refuse := errors.New("schema too new")
	if _, err := backup.Restore(context.Background(), bytes.NewReader(archive), empty, backup.RestoreOptions{Check: func(string, *backup.Manifest) error { return refuse }}); !errors.Is(err, refuse) {
		t.Fatalf("Restore with a refusing Check: %v", err)
	}
	if left, _ := os.ReadDir(empty); len(left) != 0 {
		t.Fatalf("left in the target: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(empty), ".*restore-*")); len(left) != 0 {
		t.Fatalf("staging left behind: %v", left)
	}
	if _, err := backup.Restore(context.Background(), bytes.NewReader(archive), empty, backup.RestoreOptions{}); err != nil {
		t.Fatalf("Restore into an empty dir: %v", err)
	}
}

// failing is a Snapshotter whose copy breaks halfway.
type failing struct{}

func (failing) Snapshot(_ context.Context, fn func(backend.SnapshotInfo, int64, io.WriterTo) error) error {
	return fn(backend.SnapshotInfo{SchemaVersion: 2}, 100, brokenCopy{})
}

type brokenCopy struct{}

func (brokenCopy) WriteTo(w io.Writer) (int64, error) {
	n, _ := w.Write(make([]byte, 50))
	return int64(n), errors.New("disk on fire")
}

// A failed backup leaves the earlier archive as it was, and no temp file.
func TestBackupWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.tar.gz")
	if err := os.WriteFile(path, []byte("yesterday's backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.WriteFile(context.Background(), path, failing{}, backup.Options{SpoolDir: dir}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("WriteFile: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "yesterday's backup" {
		t.Fatalf("the earlier archive is now %q", got)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Fatalf("left behind: %v", left)
	}
}
