package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// cpuProfile is one CPU profile being taken from herald-server's --pprof-addr over a fixed
// window; wait returns once it is written (or failed).
type cpuProfile struct {
	done chan error
}

// profileCPU starts a CPU profile of window on the server's profiler at pprofAddr, written to
// dir/name.pprof. Read it with `go tool pprof build/bin/herald-server FILE`.
func profileCPU(ctx context.Context, pprofAddr, dir, name string, window time.Duration) *cpuProfile {
	p := &cpuProfile{done: make(chan error, 1)}
	go func() {
		p.done <- fetchProfile(ctx, pprofAddr, filepath.Join(dir, name+".pprof"), window)
	}()
	return p
}

func fetchProfile(ctx context.Context, pprofAddr, path string, window time.Duration) error {
	secs := max(1, int(window.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, window+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", path, err)
	}
	return f.Close()
}

// wait returns the profile's outcome; nil p (no profiling) is nil.
func (p *cpuProfile) wait() error {
	if p == nil {
		return nil
	}
	return <-p.done
}
