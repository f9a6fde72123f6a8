package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Bounds on reading an archive, the defaults of Limits.
const (
	// DefaultMaxBytes bounds the entries of one archive together, decompressed: 64 GiB.
	DefaultMaxBytes int64 = 64 << 30
	// DefaultMaxEntries bounds how many entries one archive has.
	DefaultMaxEntries = 200_000
	// maxManifestBytes bounds the manifest, which is read into memory: about 300 bytes an entry.
	maxManifestBytes = 64 << 20
)

// ErrInvalid: the archive is not a complete Herald backup this version can read. The wrapping
// error says what is wrong.
var ErrInvalid = errors.New("not a valid Herald backup")

// Limits bound what reading an archive may cost; zero fields take the defaults.
type Limits struct {
	// MaxBytes bounds the decompressed size of all entries together (default DefaultMaxBytes):
	// a small archive that inflates beyond it is refused as soon as an entry's header says so.
	MaxBytes int64
	// MaxEntries bounds the number of entries (default DefaultMaxEntries).
	MaxEntries int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	return l
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// sink receives an entry's bytes: it returns where to write them (nil: discard) and what to call
// once they are all written.
type sink func(name string, size int64) (io.Writer, func() error, error)

// read reads an archive from r, handing each entry to put, and checks every entry against the
// manifest at the end. Only regular files with the names an archive may hold (see allowedName)
// are accepted, each once, within lim.
func read(ctx context.Context, r io.Reader, lim Limits, put sink) (*Manifest, error) {
	lim = lim.withDefaults()
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, invalid("not gzip-compressed: %v", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	seen := map[string]Entry{}
	var total int64
	var manifest []byte
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalid("damaged after %d entries: %v", len(seen), err)
		}
		name := hdr.Name
		_, dup := seen[name]
		switch {
		case manifest != nil:
			return nil, invalid("entry %q after the manifest", name)
		case hdr.Typeflag != tar.TypeReg:
			return nil, invalid("entry %q is not a regular file (type %q)", name, hdr.Typeflag)
		case !allowedName(name):
			return nil, invalid("unexpected entry %q", name)
		case dup:
			return nil, invalid("entry %q twice", name)
		case hdr.Size < 0 || hdr.Size > lim.MaxBytes-total:
			return nil, invalid("entry %q (%d bytes) makes the archive larger than %d bytes", name, hdr.Size, lim.MaxBytes)
		case len(seen) >= lim.MaxEntries:
			return nil, invalid("more than %d entries", lim.MaxEntries)
		}
		total += hdr.Size
		if name == ManifestName {
			if hdr.Size > maxManifestBytes {
				return nil, invalid("the manifest is %d bytes (at most %d)", hdr.Size, maxManifestBytes)
			}
			manifest = make([]byte, hdr.Size)
			if _, err := io.ReadFull(tr, manifest); err != nil {
				return nil, invalid("manifest: %v", err)
			}
			continue
		}
		w, done, err := put(name, hdr.Size)
		if err != nil {
			return nil, err
		}
		if w == nil {
			w = io.Discard
		}
		h := sha256.New()
		n, err := io.CopyN(io.MultiWriter(w, h), tr, hdr.Size)
		if done != nil {
			if cerr := done(); err == nil && cerr != nil {
				return nil, cerr
			}
		}
		if err != nil {
			if n < hdr.Size {
				return nil, invalid("entry %q ends after %d of %d bytes: %v", name, n, hdr.Size, err)
			}
			return nil, fmt.Errorf("restore %s: %w", name, err)
		}
		seen[name] = Entry{Name: name, Size: hdr.Size, SHA256: hex.EncodeToString(h.Sum(nil))}
	}
	if manifest == nil {
		return nil, invalid("no %s: the archive is incomplete", ManifestName)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(manifest))
	if err := dec.Decode(&m); err != nil {
		return nil, invalid("manifest: %v", err)
	}
	switch {
	case m.Format != Format:
		return nil, invalid("manifest format %q, want %q", m.Format, Format)
	case m.FormatVersion > FormatVersion:
		return nil, invalid("archive format %d is newer than this Herald's %d: restore it with a newer Herald", m.FormatVersion, FormatVersion)
	case m.FormatVersion < 1 || m.SchemaVersion < 1:
		return nil, invalid("manifest format %d, schema version %d", m.FormatVersion, m.SchemaVersion)
	case len(m.Entries) != len(seen):
		return nil, invalid("the manifest lists %d entries, the archive holds %d", len(m.Entries), len(seen))
	}
	for _, e := range m.Entries {
		if got, ok := seen[e.Name]; !ok || got != e {
			return nil, invalid("entry %q does not match the manifest (size %d, sha256 %s; manifest: %d, %s)", e.Name, got.Size, got.SHA256, e.Size, e.SHA256)
		}
	}
	if _, ok := seen[DBName]; !ok {
		return nil, invalid("no %s", DBName)
	}
	return &m, nil
}

// Verify reads a whole archive and checks it as Restore does, writing nothing.
func Verify(ctx context.Context, r io.Reader, lim Limits) (*Manifest, error) {
	return read(ctx, r, lim, func(string, int64) (io.Writer, func() error, error) { return nil, nil, nil })
}

// VerifyFile is Verify of the archive at path.
func VerifyFile(ctx context.Context, path string, lim Limits) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	m, err := Verify(ctx, f, lim)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	return m, nil
}

// RestoreOptions configure Restore.
type RestoreOptions struct {
	Limits
	// Check, when set, vets the restored data dir before it takes its place (it is at dir, a
	// staging directory beside the target): the store opens, its schema is one this server
	// reads. An error refuses the restore.
	Check func(dir string, m *Manifest) error
}

// Restore unpacks the archive from r into a new data directory dir, which must not exist or be
// empty. It unpacks into a staging directory beside dir, checks every entry against the
// manifest (and with opt.Check), fsyncs, and only then renames it to dir: a refused or broken
// archive leaves nothing behind. Entry names are a fixed set (see the package comment), so
// nothing can be written outside dir.
func Restore(ctx context.Context, r io.Reader, dir string, opt RestoreOptions) (*Manifest, error) {
	dir = filepath.Clean(dir)
	if entries, err := os.ReadDir(dir); err == nil {
		if len(entries) > 0 {
			return nil, fmt.Errorf("restore into %s: the directory is not empty", dir)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("restore into %s: %w", dir, err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("restore into %s: %w", dir, err)
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-*")
	if err != nil {
		return nil, fmt.Errorf("restore into %s: %w", dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(stage)
		}
	}()
	put := func(name string, _ int64) (io.Writer, func() error, error) {
		target := filepath.Join(stage, filepath.FromSlash(name))
		if rel, err := filepath.Rel(stage, target); err != nil || strings.HasPrefix(rel, "..") {
			return nil, nil, invalid("entry %q leaves the data dir", name) // allowedName rules it out; belt and braces
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return nil, nil, fmt.Errorf("restore %s: %w", name, err)
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("restore %s: %w", name, err)
		}
		return f, func() error {
			err := f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("restore %s: %w", name, err)
			}
			return nil
		}, nil
	}
	m, err := read(ctx, r, opt.Limits, put)
	if err != nil {
		return nil, err
	}
	if opt.Check != nil {
		if err := opt.Check(stage, m); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{filepath.Join(stage, FilesDir), stage} {
		if err := syncDir(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) { // empty, checked above
		return nil, fmt.Errorf("restore into %s: %w", dir, err)
	}
	if err := os.Rename(stage, dir); err != nil {
		return nil, fmt.Errorf("restore into %s: %w", dir, err)
	}
	ok = true
	return m, syncDir(parent)
}
