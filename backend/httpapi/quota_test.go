package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/httpapi"
)

// Each user may post a burst of 30 messages, then 10 a second; uploads count as messages. A
// retry of a stored message is answered even beyond the limit and uses up nothing.
func TestMessagesAreLimitedPerUser(t *testing.T) {
	clock := newTestClock() // no refill unless the test advances it
	ts := newTestServer(t, serverOptions{clock: clock.Now})
	tm := ts.team(t)
	path := "/api/chats/" + tm.chat + "/messages"
	post := func(who account, clientID string) response {
		t.Helper()
		return ts.do(t, request{method: "POST", path: path, token: who.Token, body: map[string]string{"content": "hi", "clientId": clientID}})
	}
	first := post(tm.alice, "c-0")
	for range 40 { // retries within the limit give their token back
		if r := post(tm.alice, "c-0"); r.Status != 200 {
			t.Fatalf("retry: %d %s", r.Status, r.Raw)
		}
	}
	for i := 1; i < httpapi.DefaultMessageBurst; i++ {
		if r := post(tm.alice, fmt.Sprint("c-", i)); r.Status != 201 {
			t.Fatalf("post %d of the burst: %d %s", i, r.Status, r.Raw)
		}
	}
	r := post(tm.alice, "c-new")
	if r.Status != 429 || r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") != "1" ||
		r.str("error", "message") != "You are sending messages too fast; try again in 1 s." {
		t.Fatalf("beyond the burst: %d %s Retry-After=%q", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	// A client resending what the server already has gets it back, limited or not.
	if r := post(tm.alice, "c-0"); r.Status != 200 || r.str("message", "id") != first.str("message", "id") {
		t.Fatalf("retry beyond the limit: %d %s", r.Status, r.Raw)
	}
	if r := ts.upload(t, tm.alice, tm.chat, "a.txt", []byte("x")); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("an upload beyond the limit: %d %s", r.Status, r.Raw)
	}
	// Bad input is answered as such and costs nothing; other users have their own bucket.
	ts.must(t, 400, request{method: "POST", path: path, token: tm.alice.Token, body: map[string]string{"content": ""}})
	ts.must(t, 201, request{method: "POST", path: path, token: tm.bob.Token, body: map[string]string{"content": "mine"}})
	clock.Advance(time.Second / httpapi.DefaultMessageRate)
	if r := post(tm.alice, "c-new"); r.Status != 201 {
		t.Fatalf("after 100 ms: %d %s", r.Status, r.Raw)
	}
	msgs := ts.must(t, 200, request{method: "GET", path: path + "?limit=200", token: tm.alice.Token})
	if n := len(msgs.Body["messages"].([]any)); n != httpapi.DefaultMessageBurst+2 {
		t.Fatalf("%d messages stored, want %d", n, httpapi.DefaultMessageBurst+2)
	}
}

// filesIn lists the files directory: kept uploads, thumbnails, uploads in progress.
func (ts *testServer) filesIn(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(ts.FilesDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// wantFiles fails the test unless the files directory holds exactly want.
func (ts *testServer) wantFiles(t *testing.T, want []string, after string) {
	t.Helper()
	if got := ts.filesIn(t); !slices.Equal(got, want) {
		t.Fatalf("after %s the files directory holds %v, want %v", after, got, want)
	}
}

func (ts *testServer) uploadedToday(t *testing.T, who account) int64 {
	t.Helper()
	n, err := ts.Store.UploadedOn(context.Background(), who.ID, backend.UploadDay(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Each user may upload 1 MiB a day here: an upload beyond it is refused with 429 until midnight
// UTC, whether it announces its length or is cut off while streaming, and leaves nothing.
func TestDailyUploadQuota(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: func(c *httpapi.Config) { c.UploadQuota = 1 << 20 }})
	tm := ts.team(t)
	kb := func(n int) []byte { return bytes.Repeat([]byte("x"), n<<10) }
	first := ts.upload(t, tm.alice, tm.chat, "first.txt", kb(600))
	if first.Status != 202 {
		t.Fatalf("first upload: %d %s", first.Status, first.Raw)
	}
	kept := ts.filesIn(t)
	for _, chunked := range []bool{false, true} {
		var r response
		if chunked {
			r = ts.endlessUpload(t, tm.alice, tm.chat, kb(600))
		} else {
			r = ts.upload(t, tm.alice, tm.chat, "second.txt", kb(600))
		}
		if r.Status != 429 || r.errorCode() != "rate_limited" || r.str("error", "message") != "You have uploaded 0.6 MB today; the daily limit is 1 MB." {
			t.Fatalf("chunked=%v: %d %s", chunked, r.Status, r.Raw)
		}
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		untilMidnight := time.Until(backend.UploadDayEnds(time.Now())).Seconds()
		if err != nil || float64(secs) < untilMidnight-5 || float64(secs) > untilMidnight+5 {
			t.Fatalf("chunked=%v: Retry-After %q, want the %.0f s until midnight UTC", chunked, r.Header.Get("Retry-After"), untilMidnight)
		}
		ts.wantFiles(t, kept, fmt.Sprintf("a refused upload (chunked=%v)", chunked))
	}
	if got := ts.uploadedToday(t, tm.alice); got != 600<<10 {
		t.Fatalf("alice uploaded %d bytes today, want %d", got, 600<<10)
	}
	// What still fits is accepted; other users have their own quota.
	if r := ts.upload(t, tm.alice, tm.chat, "third.txt", kb(400)); r.Status != 202 {
		t.Fatalf("an upload that fits: %d %s", r.Status, r.Raw)
	}
	if r := ts.upload(t, tm.bob, tm.chat, "bobs.txt", kb(1000)); r.Status != 202 {
		t.Fatalf("bob's upload: %d %s", r.Status, r.Raw)
	}
}

// A refused upload leaves nothing behind: no bytes in the files directory (kept or in progress)
// and no record counting against the uploader's quota — too large with or without a length,
// broken off, or refused because processing is busy.
func TestRefusedUploadsLeaveNothingOnDisk(t *testing.T) {
	gate := newFileGate()
	ts := newTestServer(t, serverOptions{maxUpload: 1 << 20, fileQueue: 1, holdFiles: gate})
	t.Cleanup(func() { close(gate.release) }) // before the server closes: it waits for the worker
	tm := ts.team(t)
	big := bytes.Repeat([]byte("x"), 2<<20)

	for _, chunked := range []bool{false, true} {
		if r := ts.uploadWith(t, tm.alice, tm.chat, "big.bin", big, chunked); r.Status != 413 || r.errorCode() != "too_large" {
			t.Fatalf("too large (chunked=%v): %d %s", chunked, r.Status, r.Raw)
		}
		ts.wantFiles(t, nil, fmt.Sprintf("a file too large (chunked=%v)", chunked))
	}

	// A connection that breaks off mid-upload: the part received so far is removed.
	progress := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	ts.breakOffUpload(t, tm.alice, tm.chat, func() { progress.nextOfType(t, "FILE_UPLOAD_PROGRESS", wait) }, func() {
		if in := ts.filesIn(t); len(in) != 1 || !strings.HasSuffix(in[0], ".part") {
			t.Fatalf("while receiving the files directory holds %v, want one upload in progress", in)
		}
	})
	waitFor(t, "the broken-off upload to be removed", func() bool { return len(ts.filesIn(t)) == 0 })

	// Processing busy: the worker holds the first file, the queue of one the second, and the
	// third upload is refused with 503 — its bytes removed and its record gone.
	first := ts.upload(t, tm.alice, tm.chat, "first.txt", []byte("one"))
	if first.Status != 202 {
		t.Fatalf("first: %d %s", first.Status, first.Raw)
	}
	if id := <-gate.arrived; id != first.str("file", "id") {
		t.Fatalf("the worker holds %s, want the first file", id)
	}
	second := ts.upload(t, tm.alice, tm.chat, "second.txt", []byte("two"))
	if second.Status != 202 {
		t.Fatalf("second: %d %s", second.Status, second.Raw)
	}
	kept := ts.filesIn(t)
	if len(kept) != 2 {
		t.Fatalf("kept %v, want the two accepted files", kept)
	}
	before := ts.uploadedToday(t, tm.alice)
	third := ts.upload(t, tm.alice, tm.chat, "third.txt", []byte("three"))
	if third.Status != 503 || third.errorCode() != "unavailable" || third.Header.Get("Retry-After") != "60" {
		t.Fatalf("third: %d %s", third.Status, third.Raw)
	}
	ts.wantFiles(t, kept, "an upload refused as busy")
	if after := ts.uploadedToday(t, tm.alice); after != before {
		t.Fatalf("a refused upload counts: %d bytes uploaded today, want %d", after, before)
	}
}

// breakOffUpload starts an upload on a raw connection that announces 1 MB and sends a part of
// it; once received (a check that the server got some) and inTheMiddle ran, it closes the
// connection.
func (ts *testServer) breakOffUpload(t *testing.T, by account, chat string, received, inTheMiddle func()) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
	fmt.Fprintf(conn, "POST /api/chats/%s/files HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n%s",
		chat, strings.TrimPrefix(ts.URL, "http://"), by.Token, 1<<20, head)
	if _, err := conn.Write(bytes.Repeat([]byte("x"), 100<<10)); err != nil {
		t.Fatal(err)
	}
	received()
	inTheMiddle()
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// The server answers the broken-off upload before it closes.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a broken-off upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("a broken-off upload: %d", resp.StatusCode)
	}
}

// endlessUpload sends a chunked upload (no Content-Length) of content that then never ends: only
// a server that cuts it off while streaming answers at all.
func (ts *testServer) endlessUpload(t *testing.T, by account, chat string, content []byte) response {
	t.Helper()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.CloseWithError(errors.New("test over")) })
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", "endless.txt")
		if err == nil {
			_, err = part.Write(content)
		}
		if err != nil {
			pw.CloseWithError(err)
		}
		// and nothing more, until the test ends
	}()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) }) // the transport waits for the body
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/api/chats/"+chat+"/files", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+by.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("an endless upload was not cut off: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return r
}
