package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer for one writer goroutine and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The debug listener (HERALD_DEBUG_ADDR) answers as the signed-in user, so it refuses what a web
// page could send it: a foreign Host (DNS rebinding), a foreign Origin, a body that is not
// labelled JSON on /desktop/.
func TestDebugListenerRefusesWhatAWebPageCouldSend(t *testing.T) {
	out := &syncBuffer{}
	runApp(t, Options{DataDir: t.TempDir(), DebugAddr: "127.0.0.1:0", Stdout: out})
	m := regexp.MustCompile(`herald: debug (http://\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no debug line in %q", out)
	}
	base := m[1]
	port := base[strings.LastIndex(base, ":")+1:]

	send := func(method, path, host, origin, contentType, body string) (int, apiError) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e apiError
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	focus := `{"focused":false}`
	refused := []struct {
		name                              string
		method, path, host, origin, ctype string
		status                            int
		code                              string
	}{
		{"foreign Host", "GET", "/desktop/state", "evil.example:" + port, "", "", http.StatusMisdirectedRequest, "forbidden"},
		{"foreign Host on /api/", "GET", "/api/me", "rebind.evil.example", "", "", http.StatusMisdirectedRequest, "forbidden"},
		{"foreign Origin", "POST", "/desktop/focus", "", "https://evil.example", "application/json", http.StatusForbidden, "forbidden"},
		{"opaque Origin", "POST", "/desktop/reset", "", "null", "", http.StatusForbidden, "forbidden"},
		{"text/plain JSON", "POST", "/desktop/focus", "", "", "text/plain", http.StatusUnsupportedMediaType, "unsupported"},
		{"no Content-Type", "PUT", "/desktop/settings", "", "", "", http.StatusUnsupportedMediaType, "unsupported"},
		{"form", "POST", "/desktop/join", "", "", "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType, "unsupported"},
	}
	for _, c := range refused {
		body := focus
		if c.ctype == "" && c.method == "POST" && c.path == "/desktop/reset" {
			body = ""
		}
		status, e := send(c.method, c.path, c.host, c.origin, c.ctype, body)
		if status != c.status || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s", c.name, status, e, c.status, c.code)
		}
	}
	// What the tests and a page on the loopback send works.
	for _, host := range []string{"", "localhost:" + port, "127.0.0.1:" + port} {
		if status, e := send("GET", "/desktop/state", host, "", "", ""); status != 200 {
			t.Errorf("GET /desktop/state with Host %q: %d %+v", host, status, e)
		}
	}
	if status, e := send("POST", "/desktop/focus", "", "http://127.0.0.1:"+port, "application/json; charset=utf-8", focus); status != 204 {
		t.Errorf("JSON from a loopback origin: %d %+v", status, e)
	}
	if status, e := send("POST", "/desktop/retry", "", "http://localhost:"+port, "", ""); status != 204 {
		t.Errorf("a POST without a body: %d %+v", status, e)
	}
	if !isLoopbackHost("[::1]:7878") || !isLoopbackHost("127.0.0.2") || isLoopbackHost("localhost.evil.example") || isLoopbackHost("0.0.0.0:80") {
		t.Error("isLoopbackHost")
	}
}
