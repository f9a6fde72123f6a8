package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the naive hub: the tool re-executes itself for it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "naive-hub" {
		if err := runNaiveHub(os.Args[2:], os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// chunk encodes parts as HTTP/1.1 chunks, then the last chunk.
func chunk(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(p), p)
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

func TestSSEReader(t *testing.T) {
	long := `data: {"type":"CHAT_UPDATED","chat":{"memberIds":["` + strings.Repeat("x", 10000) + `"]}}` + "\n\n"
	stream := "retry: 2000\n: connected\n\n" +
		"id: 01A\ndata: {\"id\":\"01A\",\"type\":\"NEW_MESSAGE\",\"message\":{\"content\":\"hb 1 7 1700000000000000001\"}}\n\n" +
		": keepalive\n\n" + long +
		"id: 01B\ndata: {\"id\":\"01B\",\"type\":\"AGENT_STATUS_CHANGED\"}\n\n" +
		"id: 01C\r\ndata: {\"id\":\"01C\",\"type\":\"NEW_MESSAGE\",\"message\":{\"content\":\"hb 2 8 42\"}}\r\n\r\n" +
		"data: {\"type\":\"NEW_MESSAGE\",\"message\":{\"content\":\"hb 2 x 42\"}}\n\n"
	// The same bytes plain, and chunked with boundaries inside lines.
	var parts []string
	for i := 0; i < len(stream); i += 7 {
		parts = append(parts, stream[i:min(i+7, len(stream))])
	}
	for name, body := range map[string]io.Reader{
		"plain":   strings.NewReader(stream),
		"chunked": &chunkedReader{r: bufio.NewReaderSize(strings.NewReader(chunk(parts...)), 16)},
	} {
		t.Run(name, func(t *testing.T) {
			sr := &sseReader{r: bufio.NewReaderSize(body, 4096)}
			var ev event
			if err := sr.next(&ev); !errors.Is(err, errConnected) {
				t.Fatalf("first: %v, want the connected preamble", err)
			}
			want := []event{{id: []byte("01A"), phase: 1, seq: 7, sentNS: 1700000000000000001}, {id: []byte("01C"), phase: 2, seq: 8, sentNS: 42}}
			for _, w := range want {
				if err := sr.next(&ev); err != nil {
					t.Fatalf("next: %v", err)
				}
				if !bytes.Equal(ev.id, w.id) || ev.phase != w.phase || ev.seq != w.seq || ev.sentNS != w.sentNS {
					t.Fatalf("got id %s %d/%d/%d, want %s %d/%d/%d", ev.id, ev.phase, ev.seq, ev.sentNS, w.id, w.phase, w.seq, w.sentNS)
				}
			}
			if err := sr.next(&ev); err != io.EOF {
				t.Fatalf("at the end: %v, want io.EOF", err)
			}
			if sr.others != 3 { // the long line, the status change, the malformed payload
				t.Errorf("others = %d, want 3", sr.others)
			}
		})
	}
}

func TestBenchContentRoundTrip(t *testing.T) {
	c := benchContent(nil, 3, 123456, 1764700000123456789)
	data := `{"type":"NEW_MESSAGE","message":{"content":"` + string(c) + `","clientId":"x"}}`
	var ev event
	if !parseBenchData([]byte(data), &ev) || ev.phase != 3 || ev.seq != 123456 || ev.sentNS != 1764700000123456789 {
		t.Fatalf("parsed %+v from %s", ev, data)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if rel := float64(got-c.want) / float64(c.want); rel > 0.02 || rel < -0.02 {
			t.Errorf("q%.2f = %s, want %s ± 2%%", c.q, got, c.want)
		}
	}
	if h.Max() != 10*time.Millisecond || h.Count() != 10000 {
		t.Errorf("max %s count %d", h.Max(), h.Count())
	}
	for v := int64(0); v < 1<<20; v = v*3/2 + 1 {
		if b := bucketOf(v); bucketLow(b) > v || bucketLow(b+1) <= v {
			t.Fatalf("bucket %d [%d, %d) does not hold %d", b, bucketLow(b), bucketLow(b+1), v)
		}
	}
	var empty histogram
	if empty.Quantile(0.99) != 0 {
		t.Error("an empty histogram's quantile is not 0")
	}
}

func TestPercentileAndMedian(t *testing.T) {
	s := []time.Duration{5, 1, 4, 2, 3}
	if p := percentile(s, 0.5); p != 3 {
		t.Errorf("p50 = %d", p)
	}
	if p := percentile(s, 0.99); p != 5 {
		t.Errorf("p99 = %d", p)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %g", m)
	}
}

func TestProcParsers(t *testing.T) {
	if v, err := parseVmRSS([]byte("Name:\tx\nVmHWM:\t  900 kB\nVmRSS:\t  1234 kB\n")); err != nil || v != 1234 {
		t.Errorf("VmRSS = %d, %v", v, err)
	}
	stat := "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 1000 50"
	if d, err := parseStatTicks([]byte(stat)); err != nil || d != 3*time.Second {
		t.Errorf("stat ticks = %s, %v", d, err)
	}
	if s, err := sampleProc(os.Getpid()); err != nil || s.cpu <= 0 || s.rssKiB <= 0 {
		t.Errorf("own sample %+v, %v", s, err)
	}
}

func TestCSVAndChart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.csv")
	for _, target := range []string{"naive", "herald"} {
		for i, n := range []int{100, 1000, 19000} {
			r := &result{target: target, round: 1, scenario: fmt.Sprintf("sweep-%d", n),
				sc: scenario{subscribers: n, messages: 10, rate: 1, posters: 1}, delivered: 10, expected: 10,
				latP50: time.Duration(i+1) * time.Millisecond, latP99: time.Duration(i+2) * 10 * time.Millisecond}
			if err := appendCSV(path, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 7 || strings.Join(rows[0], ",") != strings.Join(csvHeader(), ",") {
		t.Fatalf("rows %d, err %v, header %v", len(rows), err, rows[0])
	}
	out := filepath.Join(dir, "c.svg")
	if err := runChart([]string{"--csv", path, "--out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	polylines := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			polylines++
		}
	}
	if polylines != 4 { // p50 and p99 of each target
		t.Errorf("%d polylines, want 4", polylines)
	}
	for _, want := range []string{"subscribers (log scale)", "delivery latency, ms", "herald p99", "naive p50", ">10k<"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("the chart lacks %q", want)
		}
	}
}

// TestEndToEnd builds herald-server and runs a tiny fanout against it and the naive hub.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds herald-server")
	}
	dir := t.TempDir()
	server := filepath.Join(dir, "herald-server")
	build := exec.Command("go", "build", "-o", server, "github.com/herald-chat/herald/backend/cmd/herald-server")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build herald-server: %v\n%s", err, out)
	}
	csvPath := filepath.Join(dir, "e2e.csv")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"--server", server, "--tmp", dir, "--baseline", "--subscribers", "20", "--messages", "20",
		"--rate", "100", "--posters", "2", "--resume", "5", "--backlog", "10", "--csv", csvPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	t.Log(stdout.String())
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		get := func(name string) float64 {
			v, err := strconv.ParseFloat(row[col[name]], 64)
			if err != nil {
				t.Fatalf("%s %s: %q", row[0], name, row[col[name]])
			}
			return v
		}
		if get("delivered") != 400 || get("expected") != 400 || get("gaps") != 0 || get("dups") != 0 {
			t.Errorf("%s: delivered %v/%v, gaps %v, dups %v", row[0], get("delivered"), get("expected"), get("gaps"), get("dups"))
		}
		if get("cpu_us_per_delivery") <= 0 || get("lat_p99_ms") <= 0 {
			t.Errorf("%s: CPU %v µs/delivery, p99 %v ms", row[0], get("cpu_us_per_delivery"), get("lat_p99_ms"))
		}
		if row[0] == "herald" && (get("resumes") != 5 || get("resume_exact") != 5) {
			t.Errorf("herald: %v of %v resumes exact", get("resume_exact"), get("resumes"))
		}
	}
}

func TestPresets(t *testing.T) {
	for _, name := range []string{"fanout", "idle", "connect", "saturate", "publish", "resume", "sweep", "make"} {
		scs, ok := presets(name, 20000)
		if !ok || len(scs) == 0 {
			t.Fatalf("preset %s missing", name)
		}
		for _, sc := range scs {
			if sc.name == "" || sc.subscribers < 1 || sc.posters < 1 || sc.subscribers+sc.posters+64 > 20000 {
				t.Errorf("preset %s: %+v", name, sc)
			}
			if (sc.logEvents > 0 || sc.busyAfter > 0) && sc.otherChats == 0 {
				t.Errorf("preset %s: %s fills other chats it does not create", name, sc.name)
			}
		}
	}
	if _, ok := presets("nope", 1); ok {
		t.Error("an unknown preset was accepted")
	}
}

func TestIsPermutation(t *testing.T) {
	for _, c := range []struct {
		seqs []int
		n    int
		want bool
	}{{[]int{2, 0, 1}, 3, true}, {[]int{0, 0, 1}, 3, false}, {[]int{0, 1}, 3, false}, {[]int{0, 1, 3}, 3, false}, {nil, 0, true}} {
		if got := isPermutation(c.seqs, c.n); got != c.want {
			t.Errorf("isPermutation(%v, %d) = %v", c.seqs, c.n, got)
		}
	}
}
