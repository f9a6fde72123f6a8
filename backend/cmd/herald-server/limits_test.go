package main

import (
	"context"
	"net/http"
	"testing"
)

// --max-streams-per-user bounds one user's streams, and 0 turns the bound off.
func TestMaxStreamsPerUserFlag(t *testing.T) {
	ctx := context.Background()
	openStreams := func(p *process, token string, n int) (statuses []int) {
		for range n {
			req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/api/stream", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			statuses = append(statuses, resp.StatusCode)
			t.Cleanup(func() { resp.Body.Close() })
		}
		return statuses
	}
	register := func(p *process) string {
		st, body, err := call(ctx, p.URL, "POST", "/api/auth/register", "", map[string]string{"username": "alice", "password": "password-alice"})
		if err != nil || st != 201 {
			t.Fatalf("register: %d %v %v", st, body, err)
		}
		return body["token"].(string)
	}
	p := startServer(t, t.TempDir(), "--max-streams-per-user", "2")
	if got := openStreams(p, register(p), 3); got[0] != 200 || got[1] != 200 || got[2] != 429 {
		t.Fatalf("--max-streams-per-user 2: %v", got)
	}
	p = startServer(t, t.TempDir(), "--max-streams-per-user", "0")
	for i, st := range openStreams(p, register(p), 25) {
		if st != 200 {
			t.Fatalf("--max-streams-per-user 0: stream %d got %d", i+1, st)
		}
	}
}
