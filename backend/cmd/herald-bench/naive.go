package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// naiveHub is the baseline: the floor of what plain net/http SSE fan-out costs. No store, no
// auth, no resume. Each stream is its handler's goroutine and a buffered channel of frames;
// a publish sends the frame to every channel without blocking and drops it for a full one
// (counted in dropped).
type naiveHub struct {
	mu      sync.Mutex
	subs    map[chan []byte]struct{}
	nextID  atomic.Uint64
	dropped atomic.Uint64
}

// naiveQueue is each stream's channel capacity, in frames.
const naiveQueue = 256

func (h *naiveHub) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no flusher", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, naiveQueue)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "retry: 2000\n: connected\n\n")
	fl.Flush()
	keepalive := time.NewTicker(30 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case f := <-ch:
			if _, err := w.Write(f); err != nil {
				return
			}
			fl.Flush()
		case <-keepalive.C:
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func (h *naiveHub) post(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Content  string `json:"content"`
		ClientID string `json:"clientId"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// The id is taken under the lock, so that every stream gets the frames in id order.
	h.mu.Lock()
	id := fmt.Sprintf("%026d", h.nextID.Add(1)) // 26 characters and increasing, like a ULID
	msg := map[string]any{"id": id, "chatId": r.PathValue("chatId"), "content": req.Content,
		"clientId": req.ClientID, "createdAt": time.Now().UnixMilli()}
	data, err := json.Marshal(map[string]any{"id": id, "type": "NEW_MESSAGE", "chatId": r.PathValue("chatId"), "message": msg})
	if err != nil {
		h.mu.Unlock()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	frame := make([]byte, 0, len(data)+40)
	frame = append(append(append(frame, "id: "...), id...), '\n')
	frame = append(append(append(frame, "data: "...), data...), "\n\n"...)
	for ch := range h.subs {
		select {
		case ch <- frame:
		default:
			h.dropped.Add(1)
		}
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": msg})
}

// runNaiveHub is the naive-hub subcommand: it serves until SIGTERM or SIGINT. --ready-file gets
// the listening address once it accepts connections.
func runNaiveHub(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("herald-bench naive-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	ready := fs.String("ready-file", "", "write the listening address here once listening")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := raiseFDLimit(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	h := &naiveHub{subs: make(map[chan []byte]struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/stream", h.stream)
	mux.HandleFunc("POST /api/chats/{chatId}/messages", h.post)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(ln.Addr().String()), 0o600); err != nil {
			return fmt.Errorf("write ready file: %w", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stderr, "naive-hub: dropped "+strconv.FormatUint(h.dropped.Load(), 10)+" frames")
	return nil
}
