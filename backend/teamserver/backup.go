package teamserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend/backup"
	"github.com/herald-chat/herald/backend/bolt"
)

// Backups in the data dir.
const (
	// BackupSocket is the unix socket in the data dir on which a running server serves backups
	// (GET /backup answers the archive) to `herald-server backup`. It has mode 0600, in a data
	// dir of mode 0700: the file permissions are its authentication.
	BackupSocket = "backup.sock"
	// BackupsDir holds the scheduled backups and those of BackupNow.
	BackupsDir = "backups"
	// DefaultBackupKeep is how many backups BackupsDir keeps by default.
	DefaultBackupKeep = 7
	// backupStamp names a backup by its UTC time: herald-20261202T170000.000Z.tar.gz, which
	// sorts by time.
	backupStamp  = "20060102T150405.000Z"
	backupPrefix = "herald-"
	backupSuffix = ".tar.gz"
)

// ErrNotRunning: no server answers on the data dir's backup socket (none there, a stale one, or
// one this process may not connect to).
var ErrNotRunning = errors.New("no running server answers on the backup socket")

// BackupFile is a backup in BackupsDir.
type BackupFile struct {
	Path      string    `json:"path"`
	Size      int64     `json:"size"` // bytes
	CreatedAt time.Time `json:"createdAt"`
	// Manifest is the archive's, when this process wrote it (BackupNow); nil when listed.
	Manifest *backup.Manifest `json:"manifest,omitempty"`
}

// backups serializes the backups one server writes into BackupsDir (scheduled, BackupNow).
type backups struct {
	mu sync.Mutex
}

// Backup writes an archive of the running server — a consistent copy of the store and the
// files — to w, while it goes on serving.
func (s *Server) Backup(ctx context.Context, w io.Writer) (*backup.Manifest, error) {
	return backup.Write(ctx, w, s.Store, backup.Options{DataDir: s.cfg.DataDir})
}

// BackupNow writes a backup into the data dir's BackupsDir, atomically, and then removes the
// oldest ones beyond Config.BackupKeep. One runs at a time; a second caller waits.
func (s *Server) BackupNow(ctx context.Context) (*BackupFile, error) {
	s.backups.mu.Lock()
	defer s.backups.mu.Unlock()
	dir := filepath.Join(s.cfg.DataDir, BackupsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	now := time.Now().UTC()
	path := filepath.Join(dir, backupPrefix+now.Format(backupStamp)+backupSuffix)
	m, err := backup.WriteFile(ctx, path, s.Store, backup.Options{DataDir: s.cfg.DataDir, Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := pruneBackups(dir, s.cfg.BackupKeep); err != nil {
		s.log.Error("remove old backups", "dir", dir, "err", err)
	}
	return &BackupFile{Path: path, Size: fi.Size(), CreatedAt: m.CreatedAt, Manifest: m}, nil
}

// LastBackup is the newest backup in the data dir's BackupsDir, nil when there is none.
func (s *Server) LastBackup() (*BackupFile, error) {
	list, err := listBackups(filepath.Join(s.cfg.DataDir, BackupsDir))
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[len(list)-1], nil
}

// listBackups lists the backups in dir that BackupNow named, oldest first; other files are no
// backups of ours and are left alone.
func listBackups(dir string) ([]BackupFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []BackupFile
	for _, e := range entries {
		stamp, ok := strings.CutPrefix(e.Name(), backupPrefix)
		stamp, ok2 := strings.CutSuffix(stamp, backupSuffix)
		if !ok || !ok2 || !e.Type().IsRegular() {
			continue
		}
		at, err := time.Parse(backupStamp, stamp)
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, BackupFile{Path: filepath.Join(dir, e.Name()), Size: fi.Size(), CreatedAt: at})
	}
	slices.SortFunc(out, func(a, b BackupFile) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// pruneBackups removes the oldest backups in dir beyond keep.
func pruneBackups(dir string, keep int) error {
	list, err := listBackups(dir)
	if err != nil {
		return err
	}
	var errs []error
	for i := 0; i < len(list)-keep; i++ {
		if err := os.Remove(list[i].Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// backupLoop writes a backup every Config.BackupEvery until ctx ends. The first is due one
// interval after the newest backup in BackupsDir (at once when there is none), so restarts do
// not postpone backups. A failed backup is logged and retried at the next interval.
func (s *Server) backupLoop(ctx context.Context) {
	defer close(s.backupDone)
	every := s.cfg.BackupEvery
	wait := time.Duration(0)
	if last, err := s.LastBackup(); err != nil {
		s.log.Error("list backups", "err", err)
	} else if last != nil {
		wait = max(0, time.Until(last.CreatedAt.Add(every)))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		b, err := s.BackupNow(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("scheduled backup failed", "err", err, "next_in", every)
		default:
			s.log.Info("scheduled backup", "path", b.Path, "bytes", b.Size, "last_event_id", b.Manifest.LastEventID,
				"messages", b.Manifest.Counts["messages"], "files", b.Manifest.Counts["storedFiles"],
				"took", time.Since(start).Round(time.Millisecond), "keep", s.cfg.BackupKeep)
		}
		t.Reset(every)
	}
}

// removeBackupLeftovers removes what a backup that died with its process left: the store's spool
// copy in the data dir, a temp archive in BackupsDir. Call it holding the store's lock.
func (s *Server) removeBackupLeftovers() {
	for _, pattern := range []string{filepath.Join(s.cfg.DataDir, ".herald-backup-*.db"),
		filepath.Join(s.cfg.DataDir, BackupsDir, "."+backupPrefix+"*"+backupSuffix+".tmp-*")} {
		names, _ := filepath.Glob(pattern)
		for _, name := range names {
			if err := os.Remove(name); err != nil {
				s.log.Warn("remove a backup's leftover", "path", name, "err", err)
			}
		}
	}
}

// serveBackupSocket listens on the data dir's BackupSocket and answers GET /backup with an
// archive of the running server. Failing to listen (a data dir path too long for a unix socket,
// a platform without them) is logged: the server runs, `herald-server backup` cannot reach it.
func (s *Server) serveBackupSocket() {
	path := filepath.Join(s.cfg.DataDir, BackupSocket)
	// The store's file lock is ours: a socket left here is from a server that died.
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		s.log.Warn("no backup socket: herald-server backup cannot reach this server while it runs", "path", path, "err", err)
		return
	}
	// Windows keeps no mode bits on a socket: there the data dir's ACL guards it.
	if err := os.Chmod(path, 0o600); err != nil && runtime.GOOS != "windows" {
		ln.Close()
		s.log.Warn("no backup socket", "path", path, "err", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cw := &countingWriter{w: w}
		w.Header().Set("Content-Type", "application/gzip")
		m, err := s.Backup(r.Context(), cw)
		if err != nil {
			s.log.Error("backup through the socket failed", "err", err)
			if cw.n == 0 {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			panic(http.ErrAbortHandler) // the client must not take a cut archive for a whole one
		}
		s.log.Info("backup through the socket", "bytes", cw.n, "last_event_id", m.LastEventID,
			"took", time.Since(start).Round(time.Millisecond))
	})
	s.backupHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.backupSocket = path
	go func() {
		if err := s.backupHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("backup socket", "err", err)
		}
	}()
}

// closeBackupSocket stops the socket: a backup in flight is cut (its client refuses it).
func (s *Server) closeBackupSocket() {
	if s.backupHTTP == nil {
		return
	}
	_ = s.backupHTTP.Close()
	_ = os.Remove(s.backupSocket)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BackupDataDir writes an archive of the data dir to the file to (atomically, see
// backup.AtomicWrite, and verified before it takes its place): from the server that runs on it,
// through its BackupSocket, or — when none answers — from the store file itself, opened
// read-only. A store that is locked though no server answers on the socket is an error.
func BackupDataDir(ctx context.Context, dataDir, to string) (*backup.Manifest, error) {
	var m *backup.Manifest
	err := backup.AtomicWrite(to, func(tmp *os.File) error {
		err := fromSocket(ctx, dataDir, tmp)
		if errors.Is(err, ErrNotRunning) {
			err = fromFile(ctx, dataDir, tmp, err)
		}
		if err != nil {
			return err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("verify the backup: %w", err)
		}
		m, err = backup.Verify(ctx, tmp, backup.Limits{})
		if err != nil {
			return fmt.Errorf("verify the backup: %w", err)
		}
		return nil
	})
	return m, err
}

// fromSocket copies the running server's archive into w, or returns ErrNotRunning.
func fromSocket(ctx context.Context, dataDir string, w io.Writer) error {
	path := filepath.Join(dataDir, BackupSocket)
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableCompression: true, // the archive is gzip itself: keep it as it is
	}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://herald-server/backup", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		// No socket, a stale one (connection refused), or one we may not use: try the file,
		// whose lock tells a running server apart, and whose error then carries this one.
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("%w (%s): %v", ErrNotRunning, path, err)
		}
		return fmt.Errorf("backup through %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("backup through %s: the server answered %s: %s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("backup through %s: %w", path, err)
	}
	return nil
}

// fromFile writes an archive of the store file that no server holds.
func fromFile(ctx context.Context, dataDir string, w io.Writer, why error) error {
	f, err := bolt.OpenFile(filepath.Join(dataDir, "herald.db"), time.Second)
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("herald.db in %s is held by a running process, which does not answer on the backup socket (%v): %w", dataDir, why, err)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = backup.Write(ctx, w, f, backup.Options{DataDir: dataDir})
	return err
}

// Restore unpacks the archive at from into the new data dir dataDir (which must not exist or be
// empty), after checking every entry against the manifest, the store's schema version (one this
// server reads) and its consistency (bbolt's check). The search index is not in a backup: the
// server rebuilds it from the messages on its first start.
func Restore(ctx context.Context, from, dataDir string, lim backup.Limits) (*backup.Manifest, error) {
	f, err := os.Open(from)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	return backup.Restore(ctx, f, dataDir, backup.RestoreOptions{Limits: lim, Check: func(dir string, m *backup.Manifest) error {
		if m.SchemaVersion > bolt.SchemaVersion {
			return fmt.Errorf("restore: the backup has schema version %d and this Herald reads up to %d: %w", m.SchemaVersion, bolt.SchemaVersion, bolt.ErrSchemaTooNew)
		}
		db, err := bolt.OpenFile(filepath.Join(dir, backup.DBName), time.Second)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer db.Close()
		if err := db.Check(); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return nil
	}})
}
