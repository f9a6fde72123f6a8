package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/hub"
	"github.com/herald-chat/herald/backend/monitor"
)

// BenchmarkPostMessage32Writers measures message POST throughput through the real HTTP stack
// and bbolt on disk (fsync per commit), with 32 concurrent writers and one live subscriber.
// "nobatch" commits every message alone, for comparison with group commit. One user posts far
// faster than a person: the per-user limits are off.
func BenchmarkPostMessage32Writers(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{{"group-commit", 0}, {"nobatch", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			ts := newTestServer(b, serverOptions{maxBatch: bc.maxBatch, queueSize: 1 << 16, noUserLimits: true})
			tm := ts.team(b)
			sub := ts.openStream(b, "/api/stream", tm.bob.Token, "")
			go func() {
				for range sub.frames {
				}
			}()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			url := ts.URL + "/api/chats/" + tm.chat + "/messages"
			var seq atomic.Int64
			commits := ts.Store.Commits()
			b.SetParallelism(32 / max(1, runtimeProcs()))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					body := fmt.Appendf(nil, `{"content":"benchmark message","clientId":"b%d"}`, seq.Add(1))
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tm.alice.Token)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 201 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(b.N)/float64(max(1, ts.Store.Commits()-commits)), "msgs/commit")
		})
	}
}

// BenchmarkDeliveryLatency measures the time from sending a POST to the NEW_MESSAGE frame
// arriving on another member's /api/stream over loopback, one message at a time (b.N of them,
// faster than a person: the per-user limits are off).
func BenchmarkDeliveryLatency(b *testing.B) {
	ts := newTestServer(b, serverOptions{noUserLimits: true})
	tm := ts.team(b)
	bob := ts.openStream(b, "/api/stream", tm.bob.Token, "")
	bob.next(b, wait) // connected
	client := &http.Client{}
	url := ts.URL + "/api/chats/" + tm.chat + "/messages"
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		req, _ := http.NewRequest("POST", url, strings.NewReader(fmt.Sprintf(`{"content":"m%d"}`, i)))
		req.Header.Set("Authorization", "Bearer "+tm.alice.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		bob.nextOfType(b, "NEW_MESSAGE", wait)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkMonitorOverhead measures what the health monitor costs on the hot path: one message
// posted and fanned out to 200 live streams over real HTTP, on two servers in the same run —
// one with the monitor, one without — alternating message by message (which goes first
// alternates too), so that the machine's noise hits both alike. It reports each server's mean
// time per message and their ratio (on/off; the aim is ≤ 1.03).
func BenchmarkMonitorOverhead(b *testing.B) {
	const streams = 200
	type rig struct {
		ts    *testServer
		token string
		url   string
		subs  []*streamClient
		total time.Duration
	}
	mk := func(mon *monitor.Monitor) *rig {
		ts := newTestServer(b, serverOptions{noUserLimits: true, keepalive: time.Hour, monitor: mon,
			hubOpts: []hub.Option{hub.WithMaxStreamsPerUser(streams)}})
		tm := ts.team(b)
		r := &rig{ts: ts, token: tm.alice.Token, url: ts.URL + "/api/chats/" + tm.chat + "/messages"}
		for range streams {
			sc := ts.openStream(b, "/api/stream", tm.bob.Token, "")
			sc.next(b, wait) // connected
			r.subs = append(r.subs, sc)
		}
		return r
	}
	off, on := mk(nil), mk(monitor.New(nil, nil))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	send := func(r *rig, i int) {
		start := time.Now()
		req, _ := http.NewRequest("POST", r.url, strings.NewReader(fmt.Sprintf(`{"content":"m%d"}`, i)))
		req.Header.Set("Authorization", "Bearer "+r.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, sc := range r.subs {
			sc.nextOfType(b, "NEW_MESSAGE", wait)
		}
		r.total += time.Since(start)
	}
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			send(off, i)
			send(on, i)
		} else {
			send(on, i)
			send(off, i)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(off.total.Microseconds())/float64(b.N)/1000, "off-ms/msg")
	b.ReportMetric(float64(on.total.Microseconds())/float64(b.N)/1000, "on-ms/msg")
	b.ReportMetric(float64(on.total)/float64(off.total), "on/off")
}
