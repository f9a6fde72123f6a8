package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needNginx skips without nginx, unless HERALD_NGINX_TEST=1 (make test, which installs it)
// says it must be there.
func needNginx(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		if os.Getenv("HERALD_NGINX_TEST") == "1" {
			t.Fatal("nginx is not installed (make deps installs nginx-light)")
		}
		t.Skip("nginx is not installed")
	}
	return bin
}

// startNginx runs nginx in the foreground with deploy/nginx/herald-locations.conf verbatim in
// a plain-HTTP server block in front of upstream, and returns its base URL.
func startNginx(t *testing.T, bin, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	locations, err := filepath.Abs("../../../deploy/nginx/herald-locations.conf")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nginx binds it next; nothing else here takes ports from the ephemeral range meanwhile
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers keep the test's user, so they can read the temp dir
	}
	conf := fmt.Sprintf(`%s
daemon off;
master_process on;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    upstream herald { server %[3]s; keepalive 8; }
    server {
        listen %[4]s;
        include %[5]s;
    }
}
`, user, dir, upstream, addr, locations)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	base := "http://" + addr
	waitUntil(t, "nginx to answer", 10*time.Second, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

// The nginx configuration in deploy/ keeps the event streams unbuffered and open: an event
// reaches a client through nginx at once while the stream otherwise stays silent (keepalive an
// hour away), a resume with Last-Event-ID replays through it, and the request id nginx makes
// reaches herald's answers. herald trusts nginx (--trusted-proxies), so nginx's connections
// are not bounded per IP.
func TestNginxConfigKeepsStreamsUnbuffered(t *testing.T) {
	bin := needNginx(t)
	p := startServer(t, t.TempDir(), "--keepalive", "1h", "--trusted-proxies", "127.0.0.1,::1", "--max-conns-per-ip", "2")
	base := startNginx(t, bin, strings.TrimPrefix(p.URL, "http://"))
	tm := setupTeam(t, base)

	type frame struct{ id, data string }
	open := func(lastID string) (<-chan frame, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/stream", nil)
		req.Header.Set("Authorization", "Bearer "+tm.bob)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			cancel()
			t.Fatalf("stream through nginx: %v %v", resp, err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("Content-Type %q", ct)
		}
		frames := make(chan frame, 64)
		go func() {
			defer resp.Body.Close()
			defer close(frames)
			sc := bufio.NewScanner(resp.Body)
			var f frame
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "id: "):
					f.id = strings.TrimPrefix(line, "id: ")
				case strings.HasPrefix(line, "data: "):
					f.data = strings.TrimPrefix(line, "data: ")
				case line == "" && f.data != "":
					frames <- f
					f = frame{}
				}
			}
		}()
		return frames, cancel
	}
	message := func(frames <-chan frame, content string) frame {
		t.Helper()
		timeout := time.After(3 * time.Second)
		for {
			select {
			case f, ok := <-frames:
				if !ok {
					t.Fatal("the stream ended")
				}
				var ev struct {
					Type    string
					Message struct{ Content string }
				}
				if json.Unmarshal([]byte(f.data), &ev) == nil && ev.Type == "NEW_MESSAGE" && ev.Message.Content == content {
					return f
				}
			case <-timeout:
				t.Fatalf("%q did not arrive through nginx within 3 s: it holds the stream back", content)
			}
		}
	}

	// Three streams at once through nginx, though herald allows 2 connections per IP: nginx is
	// trusted, so its connections are not bounded.
	frames, cancel := open("")
	_, c2 := open("")
	defer c2()
	_, c3 := open("")
	defer c3()
	mustCall(t, base, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice, map[string]string{"content": "through nginx"}, 201)
	first := message(frames, "through nginx")
	cancel()

	mustCall(t, base, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice, map[string]string{"content": "while away"}, 201)
	again, cancel2 := open(first.id)
	defer cancel2()
	message(again, "while away")

	resp, err := http.Get(base + "/api/server")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-Id"); len(id) != 32 {
		t.Fatalf("X-Request-Id through nginx %q, want nginx's $request_id (32 hex digits)", id)
	}
}
