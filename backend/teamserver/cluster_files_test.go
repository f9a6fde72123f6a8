package teamserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/sse"
)

// eventLog is a /api/stream whose events are kept whole (type and raw JSON), read by the real
// SSE parser.
type eventLog struct {
	mu     sync.Mutex
	events []map[string]json.RawMessage
	cancel context.CancelFunc
	done   chan struct{}
}

func openEventLog(t *testing.T, base, token string) *eventLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("open stream on %s: %v %v", base, err, resp)
	}
	l := &eventLog{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer resp.Body.Close()
		r := sse.NewReader(resp.Body)
		for {
			f, err := r.Next()
			if err != nil {
				return
			}
			var ev map[string]json.RawMessage
			if f.IsComment || json.Unmarshal([]byte(f.Data), &ev) != nil {
				continue
			}
			l.mu.Lock()
			l.events = append(l.events, ev)
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-l.done })
	return l
}

// find returns the first event of type typ whose raw JSON contains want, or nil.
func (l *eventLog) find(typ, want string) map[string]json.RawMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.events {
		if string(ev["type"]) == `"`+typ+`"` {
			raw, _ := json.Marshal(ev)
			if strings.Contains(string(raw), want) {
				return ev
			}
		}
	}
	return nil
}

// uploadTo posts content as the multipart "file" part of an upload to chat through base.
func uploadTo(t *testing.T, base, token, chat, name string, content []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", name)
	part.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/chats/"+chat+"/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		File struct {
			ID string `json:"id"`
		} `json:"file"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode != 202 {
		t.Logf("upload through %s: %d %s", base, resp.StatusCode, raw)
	}
	return resp.StatusCode, out.File.ID
}

// download GETs path on base and returns the status and the body.
func download(t *testing.T, base, token, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s%s: %v", base, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("GET %s%s: %v", base, path, err)
	}
	return resp.StatusCode, b
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// An image uploaded through a follower is processed once, by the writer, whose object store
// then holds it and its thumbnail; every node serves both, byte for byte the same, a follower
// fetching each once however many ask at once. Deleting the message deletes the objects, every
// node answers 404, and the followers' sweep drops their copies.
func TestClusterFilesEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	started := time.Now()
	nodes := startCluster(t)
	t.Logf("cluster formed in %v", time.Since(started).Round(time.Millisecond))
	w, fol := writerOf(nodes), followersOf(nodes)
	if len(fol) != 2 {
		t.Fatalf("%d followers, want 2", len(fol))
	}
	tm := setUpTeam(t, nodes) // through a follower
	logs := make([]*eventLog, len(nodes))
	for i, n := range nodes {
		logs[i] = openEventLog(t, n.url, tm.token)
	}

	original := testPNG(t, 800, 400)
	uploaded := time.Now()
	st, id := uploadTo(t, fol[0].url, tm.token, tm.chat, "chart.png", original)
	if st != 202 || id == "" {
		t.Fatalf("upload through a follower: %d %q", st, id)
	}
	var msgID string
	for i, l := range logs {
		waitUntil(t, 20*time.Second, fmt.Sprintf("FILE_PROCESSED and the file's message on %s", nodes[i].name), func() bool {
			return l.find("FILE_PROCESSED", `"thumbnail":true`) != nil && l.find("NEW_MESSAGE", `"id":"`+id+`"`) != nil
		})
		var m struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(l.find("NEW_MESSAGE", id)["message"], &m)
		if msgID != "" && m.ID != msgID || m.ID == "" {
			t.Fatalf("%s: the file's message %q, elsewhere %q", nodes[i].name, m.ID, msgID)
		}
		msgID = m.ID
	}
	t.Logf("processed and announced on every node %v after the upload", time.Since(uploaded).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	objs, err := w.srv.StoredObjects(ctx)
	if err != nil || !slices.Contains(objs, id) || !slices.Contains(objs, id+".thumb.png") {
		t.Fatalf("the object store holds %v (%v), want %s and its thumbnail", objs, err, id)
	}

	// Every node serves both, eight clients at once on each.
	fetchStart := time.Now()
	var mu sync.Mutex
	thumbs := map[string][]byte{}
	var wg sync.WaitGroup
	for _, n := range nodes {
		for range 8 {
			wg.Go(func() {
				if st, b := download(t, n.url, tm.token, "/api/files/"+id); st != 200 || !bytes.Equal(b, original) {
					t.Errorf("%s: the file: %d, %d bytes, identical %v", n.name, st, len(b), bytes.Equal(b, original))
				}
				st, b := download(t, n.url, tm.token, "/api/files/"+id+"/thumbnail")
				if st != 200 {
					t.Errorf("%s: the thumbnail: %d", n.name, st)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if prev, ok := thumbs[n.name]; ok && !bytes.Equal(prev, b) {
					t.Errorf("%s served two different thumbnails", n.name)
				}
				thumbs[n.name] = b
			})
		}
	}
	wg.Wait()
	t.Logf("48 downloads over three nodes in %v", time.Since(fetchStart).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(thumbs[w.name])); err != nil || cfg.Width != 320 || cfg.Height != 160 {
		t.Fatalf("the thumbnail: %+v, %v", cfg, err)
	}
	for _, n := range fol {
		if !bytes.Equal(thumbs[n.name], thumbs[w.name]) {
			t.Fatalf("%s's thumbnail differs from the writer's", n.name)
		}
	}
	// Made once, by the writer; each follower fetched each of the two once.
	if s := w.srv.Files.Stats(); s.Processed != 1 || s.Thumbnails != 1 || s.Fetched != 0 {
		t.Fatalf("the writer's processor: %+v, want 1 processed, 1 thumbnail, nothing fetched", s)
	}
	for _, n := range fol {
		if s := n.srv.Files.Stats(); s.Processed != 0 || s.Thumbnails != 0 || s.Fetched != 2 {
			t.Fatalf("%s's processor: %+v, want nothing processed and 2 fetches", n.name, s)
		}
		for _, path := range []string{n.srv.Files.Path(id), n.srv.Files.ThumbnailPath(id)} {
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("%s keeps no copy: %v", n.name, err)
			}
		}
	}

	// A follower whose copies exceed its cache's budget removes them (the object store holds
	// them), and fetches them again when they are asked for.
	if k, err := fol[0].srv.TrimFiles(ctx, 0, 0); err != nil || k != 2 {
		t.Fatalf("%s: trim its copies to nothing: %d removed, %v; want the file and its thumbnail", fol[0].name, k, err)
	}
	if _, err := os.Stat(fol[0].srv.Files.Path(id)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s kept its copy past the trim: %v", fol[0].name, err)
	}
	if st, b := download(t, fol[0].url, tm.token, "/api/files/"+id); st != 200 || !bytes.Equal(b, original) {
		t.Fatalf("%s: the file after the trim: %d, %d bytes, identical %v", fol[0].name, st, len(b), bytes.Equal(b, original))
	}
	if s := fol[0].srv.Files.Stats(); s.Fetched != 3 {
		t.Fatalf("%s's processor after the trim and a download: %+v, want 3 fetches", fol[0].name, s)
	}

	// The message goes, through the other follower: the objects go with it, and no node serves
	// the file any more.
	if st := call(t, "DELETE", fol[1].url+"/api/chats/"+tm.chat+"/messages/"+msgID, tm.token, nil, nil); st != 204 {
		t.Fatalf("delete the file's message: %d", st)
	}
	objs, err = w.srv.StoredObjects(ctx)
	if err != nil || slices.ContainsFunc(objs, func(name string) bool { return strings.HasPrefix(name, id) }) {
		t.Fatalf("after the delete the object store holds %v (%v)", objs, err)
	}
	// The follower the delete went through answers 404 at once (it applied the delete before it
	// answered); the others within moments, as they apply the log.
	for _, n := range nodes {
		for _, path := range []string{"/api/files/" + id, "/api/files/" + id + "/thumbnail"} {
			if n == fol[1] {
				if st, _ := download(t, n.url, tm.token, path); st != 404 {
					t.Errorf("%s: GET %s after the delete through it: %d, want 404", n.name, path, st)
				}
				continue
			}
			waitUntil(t, 10*time.Second, n.name+" to stop serving "+path, func() bool {
				st, _ := download(t, n.url, tm.token, path)
				return st == 404
			})
		}
	}
	if _, err := os.Stat(w.srv.Files.Path(id)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the writer still has the file's bytes: %v", err)
	}
	for _, n := range fol {
		if err := n.srv.SweepFiles(ctx); err != nil {
			t.Fatalf("%s: sweep: %v", n.name, err)
		}
		for _, path := range []string{n.srv.Files.Path(id), n.srv.Files.ThumbnailPath(id)} {
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s kept %s after its sweep: %v", n.name, path, err)
			}
		}
	}
}
