package httpapi

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// webClient serves the built single-page app: files as they are (hashed assets cached for a
// year), and index.html for every other path so that client-side routes like /join/{code} load.
// The service worker (/sw.js, which caches the app shell for offline use) is revalidated on every
// fetch, so that a new build's worker replaces the old one at the next page load; its scope is
// the whole origin, which its place at the root allows without a Service-Worker-Allowed header.
func (h *Handler) webClient() http.Handler {
	dist := h.cfg.WebClient
	var index []byte
	if dist != nil {
		index, _ = fs.ReadFile(dist, "index.html")
	}
	if index == nil {
		index = []byte(`<!doctype html><meta charset="utf-8"><title>Herald</title>` +
			`<p>The Herald web client is not built. Run <code>make frontend</code> and restart the server. The API is at <code>/api/</code>.</p>`)
	}
	files := http.FileServerFS(emptyFS{})
	if dist != nil {
		files = http.FileServerFS(dist)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" && name != "index.html" && dist != nil {
			if st, err := fs.Stat(dist, name); err == nil && !st.IsDir() {
				w.Header().Set("X-Content-Type-Options", "nosniff")
				switch {
				case strings.HasPrefix(name, "assets/"):
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				case name == serviceWorkerName:
					w.Header().Set("Cache-Control", "no-cache")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	})
}

// serviceWorkerName is the web client's service worker, at the root of its build.
const serviceWorkerName = "sw.js"

type emptyFS struct{}

func (emptyFS) Open(string) (fs.File, error) { return nil, fs.ErrNotExist }
