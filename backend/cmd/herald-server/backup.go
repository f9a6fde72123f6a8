package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/herald-chat/herald/backend/backup"
	"github.com/herald-chat/herald/backend/teamserver"
)

// backupCommand is `herald-server backup --data-dir DIR --to FILE`: an archive of the data dir,
// from its running server through the backup socket, or from the store file when no server runs.
func backupCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("herald-server backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "the data dir to back up (default: the user's data directory/herald-server, as serve)")
	to := fs.String("to", "", "the archive to write (tar.gz, mode 0600; written to a temp file beside it, verified, then renamed over it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || fs.NArg() > 0 {
		return errors.New("usage: herald-server backup --data-dir DIR --to FILE")
	}
	dir, err := dataDirOrDefault(*dataDir)
	if err != nil {
		return err
	}
	m, err := teamserver.BackupDataDir(ctx, dir, *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup %s: %s\n", *to, describe(m))
	return nil
}

// restoreCommand is `herald-server restore --from FILE --data-dir NEW`.
func restoreCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("herald-server restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the archive to restore (written by herald-server backup or --backup-every)")
	dataDir := fs.String("data-dir", "", "the new data dir: it must not exist or be empty")
	maxGB := fs.Int64("max-gb", backup.DefaultMaxBytes>>30, "refuse an archive whose entries decompress to more than this many GiB")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *dataDir == "" || fs.NArg() > 0 {
		return errors.New("usage: herald-server restore --from FILE --data-dir NEW")
	}
	if *maxGB < 1 {
		return fmt.Errorf("--max-gb %d: at least 1", *maxGB)
	}
	m, err := teamserver.Restore(ctx, *from, *dataDir, backup.Limits{MaxBytes: *maxGB << 30})
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dataDir)
	fmt.Fprintf(stdout, "restored %s into %s: %s\nstart it with: herald-server serve --data-dir %s\n", *from, abs, describe(m), abs)
	return nil
}

func dataDirOrDefault(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return teamserver.UserDataDir("herald-server")
}

// describe is one line about a manifest: schema version, backup point, counts.
func describe(m *backup.Manifest) string {
	var size int64
	for _, e := range m.Entries {
		size += e.Size
	}
	names := make([]string, 0, len(m.Counts))
	for name := range m.Counts {
		names = append(names, name)
	}
	sort.Strings(names)
	counts := make([]string, len(names))
	for i, name := range names {
		counts[i] = fmt.Sprintf("%s=%d", name, m.Counts[name])
	}
	return fmt.Sprintf("created %s, schema version %d, last event %s, %d bytes unpacked, %s",
		m.CreatedAt.Format("2006-01-02T15:04:05.000Z07:00"), m.SchemaVersion, m.LastEventID, size, strings.Join(counts, " "))
}
