package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/backup"
	"github.com/herald-chat/herald/backend/sse"
)

// cli runs the built herald-server with args and returns its stdout; it fails the test on a
// non-zero exit.
func cli(tb testing.TB, args ...string) string {
	tb.Helper()
	cmd := exec.Command(serverBin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		tb.Fatalf("herald-server %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, &out, &errOut)
	}
	return out.String()
}

// frame is one data frame of a stream: its type and its id ("" for none).
type frame struct{ Type, ID, MessageID string }

// readFrames opens /api/stream resuming after lastID and hands each data frame to each until it
// returns false or the stream ends.
func readFrames(tb testing.TB, base, token, lastID string, each func(frame) bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Last-Event-ID", lastID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("open stream after %s: %v %v", lastID, err, resp)
	}
	defer resp.Body.Close()
	r := sse.NewReader(resp.Body)
	for {
		f, err := r.Next()
		if err != nil {
			tb.Fatalf("stream after %s ended: %v", lastID, err)
		}
		if f.IsComment || f.Event != "" || f.Data == "" {
			continue
		}
		var ev struct {
			Type    string
			Message struct{ ID string }
		}
		if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
			tb.Fatalf("frame %q: %v", f.Data, err)
		}
		if !each(frame{Type: ev.Type, ID: f.ID, MessageID: ev.Message.ID}) {
			return
		}
	}
}

// history returns the ids of every message in the chat, paging back from the newest.
func history(tb testing.TB, base, token, chat string) map[string]bool {
	tb.Helper()
	ids := map[string]bool{}
	before := ""
	for {
		path := "/api/chats/" + chat + "/messages?limit=200"
		if before != "" {
			path += "&before=" + before
		}
		out := mustCall(tb, base, "GET", path, token, nil, 200)
		msgs, _ := out["messages"].([]any)
		for _, m := range msgs {
			id := field(m.(map[string]any), "id")
			ids[id] = true
			if before == "" || id < before {
				before = id
			}
		}
		if more, _ := out["hasMore"].(bool); !more || len(msgs) == 0 {
			return ids
		}
	}
}

// The backup test: 16 posters write through the real server; a backup is taken mid-run
// through the CLI (the running server's backup socket); the server is SIGKILLed and the backup
// restored into a new data dir. Every message answered before the backup started is there, the
// restored server starts, a stream resuming from after the backup point gets RESYNC, and one
// resuming from before it replays up to the backup point.
func TestBackupMidRunRestoresAfterSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--message-rate", "0")
	tm := setupTeam(t, srv.URL)
	bob := collect(t, srv.URL, tm.bob, "")

	const posters = 16
	var (
		mu       sync.Mutex
		answered []string // message ids, in the order their answers arrived
		wg       sync.WaitGroup
	)
	progress := make(chan struct{}, 1)
	killed := make(chan struct{})
	for p := range posters {
		token := tm.alice
		if p%2 == 1 {
			token = tm.bob
		}
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				status, out, err := call(context.Background(), srv.URL, "POST", "/api/chats/"+tm.chat+"/messages", token,
					map[string]string{"content": fmt.Sprintf("p%d m%d", p, i), "clientId": fmt.Sprintf("p%d-%d", p, i)})
				if err != nil {
					return // the server died with this request in flight: unanswered
				}
				if status != 201 {
					t.Errorf("poster %d post %d: %d %v", p, i, status, out)
					return
				}
				mu.Lock()
				answered = append(answered, field(out, "message", "id"))
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	waitAnswered := func(n int) {
		t.Helper()
		deadline := time.After(60 * time.Second)
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
				t.Fatalf("only %d of %d posts answered in 60 s", got, n)
			}
		}
	}
	waitAnswered(150)
	mu.Lock()
	beforeBackup := append([]string(nil), answered...)
	mu.Unlock()
	archive := filepath.Join(t.TempDir(), "herald.tar.gz")
	out := cli(t, "backup", "--data-dir", dataDir, "--to", archive)
	if !strings.Contains(srv.logText(), "backup through the socket") {
		t.Fatalf("the backup did not come through the server's socket: %s\n%s", out, srv.logText())
	}
	mu.Lock()
	afterBackup := len(answered)
	mu.Unlock()
	waitAnswered(afterBackup + 150) // posting goes on after the backup
	m, err := backup.VerifyFile(context.Background(), archive, backup.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "bob to receive a message after the backup point", 30*time.Second, func() bool {
		_, last := bob.snapshot()
		return last > m.LastEventID
	})
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(killed)
	wg.Wait()
	<-srv.done
	<-bob.ended
	bobIDs, afterPoint := bob.snapshot()
	t.Logf("%d answered before the backup, %d in all; backup point %s (%d messages); bob resumes after %s",
		len(beforeBackup), len(answered), m.LastEventID, m.Counts["messages"], afterPoint)

	restored := filepath.Join(t.TempDir(), "restored")
	out = cli(t, "restore", "--from", archive, "--data-dir", restored)
	if !strings.Contains(out, "last event "+m.LastEventID) {
		t.Errorf("restore's report: %s", out)
	}
	srv2 := startServer(t, restored, "--message-rate", "0")
	have := history(t, srv2.URL, tm.bob, tm.chat)
	for _, id := range beforeBackup {
		if !have[id] {
			t.Fatalf("message %s, answered before the backup started, is not in the restored server", id)
		}
	}
	for id := range have {
		if id > m.LastEventID {
			t.Fatalf("message %s is after the backup point %s", id, m.LastEventID)
		}
	}

	// After the backup point: the restored log does not know the id.
	readFrames(t, srv2.URL, tm.bob, afterPoint, func(f frame) bool {
		if f.Type != "RESYNC" {
			t.Fatalf("resume after the backup point: first frame %+v, want RESYNC", f)
		}
		if f.ID < m.LastEventID {
			t.Errorf("RESYNC id %s is older than the backup point %s", f.ID, m.LastEventID)
		}
		return false
	})
	// Before it: the messages bob had seen after his resume id replay, up to the backup point.
	var from string
	var want []string
	for i, id := range bobIDs {
		if id > m.LastEventID {
			break
		}
		if i == len(bobIDs)/4 {
			from = id
		} else if from != "" {
			want = append(want, id)
		}
	}
	if from == "" || len(want) == 0 {
		t.Fatalf("bob saw %d messages up to the backup point: too few to resume among", len(bobIDs))
	}
	var got []string
	readFrames(t, srv2.URL, tm.bob, from, func(f frame) bool {
		if f.Type == "RESYNC" {
			t.Fatalf("resume from %s, before the backup point, got RESYNC", from)
		}
		if f.Type == "NEW_MESSAGE" {
			got = append(got, f.MessageID)
		}
		return len(got) < len(want)
	})
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("replay from %s: message %d is %s, want %s", from, i, got[i], want[i])
		}
	}
	// And the restored server takes new posts, with ids after the backup point.
	post := mustCall(t, srv2.URL, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice, map[string]string{"content": "after the restore"}, 201)
	if id := field(post, "message", "id"); id <= m.LastEventID {
		t.Errorf("new message %s is not after the backup point %s", id, m.LastEventID)
	}
}

// backup and restore without a running server, and their refusals.
func TestBackupAndRestoreCommands(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	tm := setupTeam(t, srv.URL)
	mustCall(t, srv.URL, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice, map[string]string{"content": "kept"}, 201)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	archive := filepath.Join(t.TempDir(), "offline.tar.gz")
	if out := cli(t, "backup", "--data-dir", dataDir, "--to", archive); !strings.Contains(out, "messages=1") {
		t.Errorf("backup's report: %s", out)
	}
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("x"), 0o600)
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"restore", "--from", archive, "--data-dir", full},
		{"restore", "--from", archive},
		{"restore", "--from", filepath.Join(t.TempDir(), "missing.tar.gz"), "--data-dir", filepath.Join(t.TempDir(), "new")},
		{"restore", "--from", filepath.Join(dataDir, "herald.db"), "--data-dir", filepath.Join(t.TempDir(), "new")},
		{"backup", "--data-dir", dataDir},
		{"backup", "--data-dir", filepath.Join(t.TempDir(), "nothing"), "--to", filepath.Join(t.TempDir(), "b.tar.gz")},
		{"serve", "--backup-every", "-1h"},
		{"serve", "--backup-every", "1ms"},
		{"serve", "--backup-keep", "0"},
	} {
		if err := run(context.Background(), args, &stdout, &stderr); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
	restored := filepath.Join(t.TempDir(), "restored")
	cli(t, "restore", "--from", archive, "--data-dir", restored)
	srv = startServer(t, restored)
	if have := history(t, srv.URL, tm.alice, tm.chat); len(have) != 1 {
		t.Fatalf("restored history: %v", have)
	}
}

func TestHelpListsTheBackupFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	_ = run(context.Background(), []string{"serve", "--help"}, &out, &errOut)
	for _, want := range []string{"-backup-every duration", "-backup-keep int", "(default 7)"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("serve --help lacks %q:\n%s", want, &errOut)
		}
	}
	errOut.Reset()
	_ = run(context.Background(), nil, &out, &errOut)
	for _, want := range []string{"herald-server backup --data-dir DIR --to FILE", "herald-server restore --from FILE --data-dir NEW"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, &errOut)
		}
	}
}
