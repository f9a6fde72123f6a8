package bolt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
)

// A snapshot taken while 8 writers post is a consistent file: it opens, passes bbolt's check,
// holds every message answered before it began, and its info describes it.
func TestSnapshotWhileWriting(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.admin("ann"), e.member("bob")
	chat := e.chat("ops", ann, bob)
	var (
		mu       sync.Mutex
		answered []string
		wg       sync.WaitGroup
	)
	stop := make(chan struct{})
	progress := make(chan struct{}, 1) // a post was answered
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: bob.ID, Content: fmt.Sprintf("w%d m%d", w, i)})
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
				mu.Lock()
				answered = append(answered, m.ID)
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	waitFor := func(n int) {
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			got := len(answered)
			mu.Unlock()
			if got >= n {
				return
			}
			select {
			case <-progress:
			case <-deadline:
				t.Fatalf("only %d of %d posts answered in 10 s", got, n)
			}
		}
	}
	waitFor(200)
	mu.Lock()
	before := slices.Clone(answered)
	mu.Unlock()
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	var info backend.SnapshotInfo
	err := e.s.Snapshot(e.ctx, func(i backend.SnapshotInfo, size int64, db io.WriterTo) error {
		info = i
		f, err := os.Create(copyPath)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := db.WriteTo(f)
		if err == nil && n != size {
			err = fmt.Errorf("wrote %d bytes, size said %d", n, size)
		}
		return err
	})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	mu.Lock()
	n := len(answered)
	mu.Unlock()
	waitFor(n + 50) // writers went on
	close(stop)
	wg.Wait()

	checkFile(t, copyPath)
	f, err := bolt.OpenFile(copyPath, time.Second)
	if err != nil {
		t.Fatalf("OpenFile(copy): %v", err)
	}
	if got := snapshotInfo(t, f); got.LastEventID != info.LastEventID || got.Counts["messages"] != info.Counts["messages"] ||
		got.SchemaVersion != bolt.SchemaVersion {
		t.Fatalf("the copy reads as %+v, the snapshot said %+v", got, info)
	}
	f.Close()
	c := &env{t: t, path: copyPath, clock: e.clock, ctx: e.ctx}
	c.open()
	for _, id := range before {
		if _, err := c.s.Message(c.ctx, chat.ID, id); err != nil {
			t.Fatalf("message %s, answered before the snapshot, is not in it: %v", id, err)
		}
	}
	if info.Counts["messages"] < len(before) || info.Counts["users"] != 2 || info.Counts["chats"] != 1 {
		t.Errorf("counts %v with %d messages answered before", info.Counts, len(before))
	}
	if last := e.lastEventID(); info.LastEventID >= last {
		t.Errorf("snapshot's last event %s is not older than the store's %s after more posts", info.LastEventID, last)
	}
}

// A delete while a snapshot is open is answered without waiting for the snapshot; its scrub of
// free pages is put off (the snapshot may read them) and follows the snapshot's end, so the words
// are gone from the file then.
func TestSnapshotPutsOffTheScrub(t *testing.T) {
	// Commits that grow bbolt's memory map wait for open read transactions, snapshots included:
	// map enough that this one's never does.
	e := newEnv(t, bolt.WithInitialMmapSize(64<<20))
	ann := e.admin("ann")
	chat := e.chat("ops", ann)
	for i := range 100 {
		e.post(chat, ann, fmt.Sprintf("filler message %d with some words to fill pages", i))
	}
	const secret = "zqx-snapshot-4417"
	m := e.post(chat, ann, "the key is "+secret)
	e.postMany(chat, ann, 20)
	second := make(chan error, 1)
	err := e.s.Snapshot(e.ctx, func(_ backend.SnapshotInfo, _ int64, db io.WriterTo) error {
		done := make(chan error, 1)
		go func() {
			_, err := e.s.DeleteMessage(e.ctx, chat.ID, m.ID, ann)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-time.After(10 * time.Second):
			return errors.New("DeleteMessage waits for the open snapshot")
		}
		if !fileHolds(t, e.path, secret) {
			return errors.New("the scrub ran while the snapshot was open")
		}
		// A second snapshot, asked for after the delete was answered, waits for this one and
		// the scrub: its copy (free pages included) must not hold the words.
		go func() {
			var buf bytes.Buffer
			err := e.s.Snapshot(e.ctx, func(_ backend.SnapshotInfo, _ int64, db io.WriterTo) error {
				_, err := db.WriteTo(&buf)
				return err
			})
			if err == nil && bytes.Contains(buf.Bytes(), []byte(secret)) {
				err = errors.New("a snapshot begun after the delete holds the deleted words")
			}
			second <- err
		}()
		_, err := db.WriteTo(io.Discard)
		return err
	})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second Snapshot: %v", err)
	}
	if fileHolds(t, e.path, secret) {
		t.Fatal("the deleted words are in the file after the snapshot ended")
	}
}

// A running store keeps OpenFile out (the backup command then goes through the server).
func TestSnapshotOpenFileIsLockedByAnOpenStore(t *testing.T) {
	e := newEnv(t)
	if _, err := bolt.OpenFile(e.path, 50*time.Millisecond); !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("OpenFile beside an open store: %v, want ErrLocked", err)
	}
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := bolt.OpenFile(e.path, time.Second)
	if err != nil {
		t.Fatalf("OpenFile of a closed store: %v", err)
	}
	if _, err := bolt.Open(e.path); !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("Open beside an OpenFile: %v, want ErrLocked", err)
	}
	f.Close()
}

// A snapshot adopted by another node holds the log position and every record of the copied
// store, and none of its health monitor's minutes (those are per node); a damaged copy is
// refused.
func TestAdoptSnapshot(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.admin("ann"), e.member("bob")
	chat := e.chat("ops", ann, bob)
	m := e.post(chat, ann, "before the snapshot")
	wantNoError(t, e.s.AppendMonitorMinute(e.ctx, backend.MonitorMinute{Start: 60_000, Streams: 3}), "AppendMonitorMinute")
	want, err := e.s.LogSeq()
	wantNoError(t, err, "LogSeq")
	if want == 0 {
		t.Fatal("the replicated env's store has no log position")
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	var info backend.SnapshotInfo
	err = e.s.Snapshot(e.ctx, func(i backend.SnapshotInfo, _ int64, db io.WriterTo) error {
		info = i
		f, err := os.Create(copyPath)
		if err != nil {
			return err
		}
		if _, err := db.WriteTo(f); err != nil {
			return err
		}
		return f.Close()
	})
	wantNoError(t, err, "Snapshot")
	if info.LogSeq != want {
		t.Fatalf("snapshot info LogSeq %d, the store's %d", info.LogSeq, want)
	}
	got, err := bolt.AdoptSnapshot(copyPath)
	wantNoError(t, err, "AdoptSnapshot")
	if got != want {
		t.Fatalf("AdoptSnapshot: log position %d, want %d", got, want)
	}
	s, err := bolt.Open(copyPath)
	wantNoError(t, err, "Open the adopted copy")
	defer s.Close()
	if seq, _ := s.LogSeq(); seq != want {
		t.Fatalf("adopted store's LogSeq %d, want %d", seq, want)
	}
	if mins, err := s.MonitorMinutes(e.ctx, 0); err != nil || len(mins) != 0 {
		t.Fatalf("adopted store's monitor minutes: %v %v, want none", mins, err)
	}
	if mins, err := e.s.MonitorMinutes(e.ctx, 0); err != nil || len(mins) != 1 {
		t.Fatalf("the original's monitor minutes: %v %v, want its one", mins, err)
	}
	if got, err := s.Message(e.ctx, chat.ID, m.ID); err != nil || got.Content != m.Content {
		t.Fatalf("adopted store's message: %+v %v", got, err)
	}

	damaged := filepath.Join(t.TempDir(), "damaged.db")
	b, err := os.ReadFile(copyPath)
	wantNoError(t, err, "read the copy")
	wantNoError(t, os.WriteFile(damaged, b[:len(b)/2], 0o600), "write half of it")
	if _, err := bolt.AdoptSnapshot(damaged); err == nil {
		t.Fatal("AdoptSnapshot of half a file succeeded")
	}
}
