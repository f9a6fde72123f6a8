package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// The directory holds the live index in a subdirectory (index-00000001, …) that the file
// CURRENT names. A rebuild writes the next one beside it and swaps by replacing CURRENT
// (written to CURRENT.tmp, synced, renamed over it, the directory synced): a crash leaves CURRENT
// naming either the old index or the complete new one, and Open removes everything else.
const currentFile = "CURRENT"

var indexName = regexp.MustCompile(`^index-[0-9]{8}$`)

// Internal keys of the bleve index.
var (
	keyVersion = []byte("herald.version") // mappingVersion
	keyCursor  = []byte("herald.cursor")  // "c:" + the last event applied ("c:" alone for none)
	keyErase   = []byte("herald.erase")   // present while documents removed or replaced may remain on disk
)

// prepareDir makes dir and removes from it what no crash-free run leaves: every entry but
// CURRENT and the index it names (an unfinished rebuild, CURRENT.tmp). It returns the path of
// the current index, "" when there is none.
func prepareDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create search dir: %w", err)
	}
	name := ""
	data, err := os.ReadFile(filepath.Join(dir, currentFile))
	switch {
	case err == nil:
		if n := strings.TrimSpace(string(data)); indexName.MatchString(n) {
			name = n
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read %s: %w", currentFile, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read search dir: %w", err)
	}
	for _, e := range entries {
		if e.Name() == currentFile || e.Name() == name {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return "", fmt.Errorf("remove stale %s: %w", e.Name(), err)
		}
	}
	if name == "" {
		return "", nil
	}
	return filepath.Join(dir, name), nil
}

// nextIndexPath is where a rebuild writes: the index after current (or the first).
func nextIndexPath(dir, current string) string {
	n := 0
	if current != "" {
		_, _ = fmt.Sscanf(filepath.Base(current), "index-%d", &n)
	}
	return filepath.Join(dir, fmt.Sprintf("index-%08d", n+1))
}

// writeCurrent makes path the current index, atomically.
func writeCurrent(dir, path string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	_, err = f.WriteString(filepath.Base(path) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, currentFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("switch to %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// createBleve makes a new, empty index at path.
func (ix *Index) createBleve(path string) (bleve.Index, error) {
	idx, err := bleve.NewUsing(path, ix.mapping, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create search index %s: %w", path, err)
	}
	return idx, nil
}

// openExisting opens the index at path and reads its cursor and whether an erasure was pending.
// An index of another mapping version, or without a cursor, is an error: it is to be rebuilt.
func (ix *Index) openExisting(path string) (h *handle, cursor string, erasePending bool, err error) {
	idx, err := openBleve(path)
	if err != nil {
		return nil, "", false, err
	}
	defer func() {
		if err != nil {
			_ = idx.Close()
		}
	}()
	v, err := idx.GetInternal(keyVersion)
	if err != nil {
		return nil, "", false, fmt.Errorf("read mapping version: %w", err)
	}
	if string(v) != mappingVersion {
		return nil, "", false, fmt.Errorf("mapping version %q, want %q", v, mappingVersion)
	}
	c, err := idx.GetInternal(keyCursor)
	if err != nil {
		return nil, "", false, fmt.Errorf("read cursor: %w", err)
	}
	cur, ok := strings.CutPrefix(string(c), "c:")
	if !ok {
		return nil, "", false, fmt.Errorf("no cursor (%q)", c)
	}
	e, err := idx.GetInternal(keyErase)
	if err != nil {
		return nil, "", false, fmt.Errorf("read erasure flag: %w", err)
	}
	return newHandle(idx, path), cur, e != nil, nil
}

// openBleve opens an existing index. A damaged one can make bleve panic on its files: that is an
// error here too.
func openBleve(path string) (idx bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			idx, err = nil, fmt.Errorf("open search index %s: panic: %v", path, r)
		}
	}()
	idx, err = bleve.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open search index %s: %w", path, err)
	}
	return idx, nil
}

func newHandle(idx bleve.Index, path string) *handle {
	ctx, cancel := context.WithCancel(context.Background())
	return &handle{idx: idx, path: path, ctx: ctx, cancel: cancel}
}

func cursorValue(id string) []byte { return []byte("c:" + id) }
