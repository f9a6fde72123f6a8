package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// upload posts one multipart "file" part and decodes the answer.
func (ts *testServer) upload(t *testing.T, by account, chat, name string, content []byte) response {
	t.Helper()
	return ts.uploadWith(t, by, chat, name, content, false)
}

// uploadWith is upload; chunked sends the body without a Content-Length.
func (ts *testServer) uploadWith(t *testing.T, by account, chat, name string, content []byte, chunked bool) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	mw.Close()
	var rd io.Reader = &body
	if chunked {
		rd = io.MultiReader(&body) // a reader of unknown length: sent chunked
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/chats/"+chat+"/files", rd)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+by.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFileUploadIsProcessedAndShared(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	aliceStream := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")

	r := ts.upload(t, tm.alice, tm.chat, "../../etc/chart.png", pngBytes(t, 800, 400))
	if r.Status != 202 || r.str("file", "status") != "processing" || r.str("file", "name") != "chart.png" {
		t.Fatalf("upload: %d %s", r.Status, r.Raw)
	}
	id := r.str("file", "id")
	progress := aliceStream.nextOfType(t, "FILE_UPLOAD_PROGRESS", wait)
	if progress.Frame.HasID || !strings.Contains(progress.Data(), `"name":"chart.png"`) {
		t.Fatalf("progress: %+v", progress.Frame)
	}
	done := aliceStream.nextOfType(t, "FILE_PROCESSED", wait)
	for _, want := range []string{`"status":"ready"`, `"mime":"image/png"`, `"width":800`, `"height":400`, `"thumbnail":true`, `"sha256":"`, `"type":"file"`} {
		if !strings.Contains(done.Data(), want) {
			t.Fatalf("FILE_PROCESSED lacks %s: %s", want, done.Data())
		}
	}
	msg := bob.nextOfType(t, "NEW_MESSAGE", wait)
	if msg.Message.AuthorID != tm.alice.ID || msg.Message.Attachment == nil || msg.Message.Attachment.ID != id {
		t.Fatalf("bob's message: %+v", msg.Message)
	}

	get := func(path string, who account) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+who.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	file := get("/api/files/"+id, tm.bob)
	if file.StatusCode != 200 || file.Header.Get("Content-Type") != "image/png" || file.Header.Get("X-Content-Type-Options") != "nosniff" ||
		file.Header.Get("Content-Disposition") != `inline; filename=chart.png` {
		t.Fatalf("GET file: %d %v", file.StatusCode, file.Header)
	}
	thumb := get("/api/files/"+id+"/thumbnail", tm.bob)
	cfg, err := png.DecodeConfig(thumb.Body)
	if thumb.StatusCode != 200 || err != nil || cfg.Width != 320 || cfg.Height != 160 {
		t.Fatalf("thumbnail: %d %v %+v", thumb.StatusCode, err, cfg)
	}
	if got := get("/api/files/"+id, tm.carol); got.StatusCode != 403 {
		t.Fatalf("a non-member downloaded: %d", got.StatusCode)
	}
}

func TestFileProcessingOutcomes(t *testing.T) {
	ts := newTestServer(t, serverOptions{maxUpload: 1 << 20})
	tm := ts.team(t)
	notes := ts.openStream(t, "/api/notifications/"+tm.alice.ID+"/stream", tm.alice.Token, "")

	corrupt := append(pngBytes(t, 10, 10)[:60], bytes.Repeat([]byte{0}, 100)...)
	ts.upload(t, tm.alice, tm.chat, "broken.png", corrupt)
	failed := notes.nextOfType(t, "FILE_PROCESSED", wait)
	if !strings.Contains(failed.Data(), `"status":"failed"`) || !strings.Contains(failed.Data(), `Not a valid PNG image`) ||
		!strings.Contains(failed.Data(), `"title":"broken.png could not be processed"`) {
		t.Fatalf("corrupt image: %s", failed.Data())
	}

	// A decompression bomb: a valid header claiming 20,000 × 20,000 pixels is not decoded.
	ts.upload(t, tm.alice, tm.chat, "bomb.png", pngHeader(20000, 20000))
	bomb := notes.nextOfType(t, "FILE_PROCESSED", wait)
	if !strings.Contains(bomb.Data(), `"status":"failed"`) || !strings.Contains(bomb.Data(), "20000×20000 pixels") {
		t.Fatalf("bomb: %s", bomb.Data())
	}

	text := ts.upload(t, tm.alice, tm.chat, `..\\..\\notes`+"\u202e.txt", []byte("line one\nline two\n"))
	if text.str("file", "name") != "notes.txt" {
		t.Fatalf("name: %s", text.Raw)
	}
	ready := notes.nextOfType(t, "FILE_PROCESSED", wait)
	if !strings.Contains(ready.Data(), `"preview":"line one\nline two\n"`) || !strings.Contains(ready.Data(), `"mime":"text/plain; charset=utf-8"`) {
		t.Fatalf("text file: %s", ready.Data())
	}
	// An HTML upload can never run in the app's origin: it downloads as an attachment.
	html := ts.upload(t, tm.alice, tm.chat, "page.html", []byte("<html><script>alert(1)</script></html>"))
	notes.nextOfType(t, "FILE_PROCESSED", wait)
	req, _ := http.NewRequest("GET", ts.URL+"/api/files/"+html.str("file", "id"), nil)
	req.Header.Set("Authorization", "Bearer "+tm.alice.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("html served as %v", resp.Header)
	}

	if r := ts.upload(t, tm.alice, tm.chat, "big.bin", bytes.Repeat([]byte("x"), 2<<20)); r.Status != 413 || r.errorCode() != "too_large" {
		t.Fatalf("oversize: %d %s", r.Status, r.Raw)
	}
	if r := ts.upload(t, tm.carol, tm.chat, "x.txt", []byte("x")); r.Status != 403 {
		t.Fatalf("non-member upload: %d", r.Status)
	}
	ts.must(t, 415, request{method: "POST", path: "/api/chats/" + tm.chat + "/files", token: tm.alice.Token, body: map[string]string{"file": "x"}})
	ts.must(t, 404, request{method: "GET", path: "/api/files/" + unknownID, token: tm.alice.Token})
}

// pngHeader is a PNG signature and IHDR chunk for a w×h RGBA image, with no image data.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, uint32(len(ihdr)-4))
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}
