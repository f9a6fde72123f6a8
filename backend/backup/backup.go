// Package backup writes and restores Herald backups: one gzip-compressed tar archive of a data
// directory, taken while the server runs.
//
// An archive holds, in this order:
//
//	herald.db                    a consistent copy of the store (one read transaction)
//	files/NAME                   the uploaded files and their thumbnails
//	tls-cert.pem, tls-key.pem    the server's self-signed certificate, when the data dir has one
//	MANIFEST.json                what the archive holds (Manifest), last
//
// The manifest comes last because it carries every entry's size and SHA-256: reading an archive
// (Verify, Restore) hashes each entry as it goes and checks them all against the manifest at the
// end, so a truncated or altered archive is refused as a whole.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Names in an archive.
const (
	DBName       = "herald.db"
	ManifestName = "MANIFEST.json"
	FilesDir     = "files"
	// Format is Manifest.Format; FormatVersion is the archive layout this package writes and
	// reads.
	Format        = "herald-backup"
	FormatVersion = 1
)

// extraNames are the data dir's own files an archive may carry besides the store and files/:
// the self-signed certificate (tlscert.CertFile, tlscert.KeyFile), so that invite links and
// desktop apps that pinned its fingerprint still trust a restored server.
var extraNames = []string{"tls-cert.pem", "tls-key.pem"}

// Manifest describes an archive.
type Manifest struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"formatVersion"`
	// SchemaVersion is the store's (bolt.SchemaVersion of the server that wrote it).
	SchemaVersion int       `json:"schemaVersion"`
	CreatedAt     time.Time `json:"createdAt"`
	// LastEventID is the newest event in the copied log: the backup point. A stream that resumes
	// from a newer id on a restored server gets RESYNC.
	LastEventID string `json:"lastEventId"`
	// Counts are the store's records by kind (users, chats, messages, events, files) and
	// "storedFiles", the files/ entries.
	Counts  map[string]int `json:"counts"`
	Entries []Entry        `json:"entries"`
}

// Entry is one file of an archive.
type Entry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Options say what Write puts into an archive besides the store.
type Options struct {
	// DataDir is the data directory: its files/ and self-signed certificate go into the archive
	// ("" adds nothing but the store).
	DataDir string
	// SpoolDir is where the store's copy waits while it is compressed (default DataDir, else
	// os.TempDir()): the snapshot's read transaction lasts only as long as writing it there, not
	// as long as compressing and sending it. It needs room for the whole store for a moment.
	SpoolDir string
	// Now stamps the manifest (default time.Now).
	Now func() time.Time
}

// Write writes an archive of src (and of the data dir's files, see Options) to w and returns its
// manifest. A file of files/ that is deleted while Write runs is left out (its message was
// deleted after the store's copy was taken; the restored server's sweep finds no bytes for it).
func Write(ctx context.Context, w io.Writer, src backend.Snapshotter, opt Options) (*Manifest, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SpoolDir == "" {
		opt.SpoolDir = opt.DataDir
	}
	if opt.SpoolDir == "" {
		opt.SpoolDir = os.TempDir()
	}
	spool, err := os.CreateTemp(opt.SpoolDir, ".herald-backup-*.db")
	if err != nil {
		return nil, fmt.Errorf("backup: spool the store: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	var info backend.SnapshotInfo
	var size int64
	err = src.Snapshot(ctx, func(i backend.SnapshotInfo, n int64, db io.WriterTo) error {
		info, size = i, n
		written, err := db.WriteTo(spool)
		if err == nil && written != n {
			err = fmt.Errorf("the copy is %d bytes, the snapshot said %d", written, n)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("backup: copy the store: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m := &Manifest{Format: Format, FormatVersion: FormatVersion, SchemaVersion: info.SchemaVersion,
		CreatedAt: opt.Now().UTC().Truncate(time.Millisecond), LastEventID: info.LastEventID, Counts: info.Counts}
	if m.Counts == nil {
		m.Counts = map[string]int{}
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	add := func(name string, size int64, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: m.CreatedAt, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("backup: %s: %w", name, err)
		}
		h := sha256.New()
		if n, err := io.CopyN(io.MultiWriter(tw, h), r, size); err != nil {
			return fmt.Errorf("backup: %s: %d of %d bytes: %w", name, n, size, err)
		}
		m.Entries = append(m.Entries, Entry{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	if err := add(DBName, size, spool); err != nil {
		return nil, err
	}
	if opt.DataDir != "" {
		names, err := storedFiles(filepath.Join(opt.DataDir, FilesDir))
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			ok, err := addFile(filepath.Join(opt.DataDir, FilesDir, name), path.Join(FilesDir, name), add)
			if err != nil {
				return nil, err
			}
			if ok {
				m.Counts["storedFiles"]++
			}
		}
		for _, name := range extraNames {
			if _, err := addFile(filepath.Join(opt.DataDir, name), name, add); err != nil {
				return nil, err
			}
		}
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Size: int64(len(body)), Mode: 0o600, ModTime: m.CreatedAt, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	if _, err := tw.Write(body); err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// storedFiles lists the names in dir that an archive carries: regular files with safe names,
// not an upload in progress (upload-*.part). A missing dir has none.
func storedFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: list %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !safeName(name) || (strings.HasPrefix(name, "upload-") && strings.HasSuffix(name, ".part")) {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// addFile adds the file at src as name, unless it does not exist (any more): then ok is false.
func addFile(src, name string, add func(name string, size int64, r io.Reader) error) (ok bool, err error) {
	f, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("backup: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return false, nil
	}
	return true, add(name, fi.Size(), f)
}

// maxNameLen bounds a files/ name: ids and thumbnails are far shorter.
const maxNameLen = 128

// safeName reports whether name is one path element of letters, digits, '.', '-' and '_', not
// starting with '.': nothing in it can name another directory.
func safeName(name string) bool {
	if name == "" || len(name) > maxNameLen || name[0] == '.' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// allowedName reports whether an archive may hold an entry called name: the store, the
// manifest, the certificate files, or files/ and one safe name.
func allowedName(name string) bool {
	if name == DBName || name == ManifestName || slices.Contains(extraNames, name) {
		return true
	}
	rest, ok := strings.CutPrefix(name, FilesDir+"/")
	return ok && safeName(rest)
}

// WriteFile writes an archive of src to path atomically: into a temp file in path's directory
// (mode 0600), synced, then renamed over path, and the directory synced. A failure leaves no
// file behind, and an existing path untouched.
func WriteFile(ctx context.Context, path string, src backend.Snapshotter, opt Options) (*Manifest, error) {
	var m *Manifest
	err := AtomicWrite(path, func(w *os.File) error {
		var err error
		m, err = Write(ctx, w, src, opt)
		return err
	})
	return m, err
}

// AtomicWrite writes path with fill as WriteFile does: fill writes the temp file (and may read it
// back to check it), then fsync, rename, fsync of the directory. When fill fails, path is left
// as it was.
func AtomicWrite(path string, fill func(tmp *os.File) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory (and needs not).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !isUnsupported(err) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func isUnsupported(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not supported")
}
