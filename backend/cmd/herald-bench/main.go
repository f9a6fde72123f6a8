// Command herald-bench is Herald's load tool (issue 13): it runs herald-server as a child
// process on a fresh data dir it fills through the store, holds N raw-TCP SSE subscribers on
// GET /api/stream, publishes through the REST API, and reads the server's CPU and RSS from
// /proc. With --baseline it runs the same load against a built-in naive net/http hub in the same
// run and prints the ratios. See docs/BENCHMARKS.md.
//
//	herald-bench [flags]                      run the scenario the flags (or --preset) describe
//	herald-bench chart --csv FILE --out SVG   draw latency vs subscribers from a CSV
//	herald-bench naive-hub --addr A           the baseline hub (the tool starts it itself)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "herald-bench:", err)
		os.Exit(1)
	}
}

// options are the flags of a load run.
type options struct {
	server      string
	pid         int
	url         string
	tokensFile  string
	chat        string
	serverArgs  []string
	tmp         string
	presets     string
	baseline    bool
	rounds      int
	csv         string
	connectConc int
	profileDir  string
	sweepRate   float64
	sc          scenario
	duration    time.Duration
}

type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, " ") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "naive-hub":
			return runNaiveHub(args[1:], stderr)
		case "chart":
			return runChart(args[1:], stderr)
		}
	}
	o := &options{}
	fs := flag.NewFlagSet("herald-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "build/bin/herald-server", "herald-server binary to run as the child process")
	fs.IntVar(&o.pid, "pid", 0, "measure this already running server instead of starting one (needs --url, --tokens, --chat)")
	fs.StringVar(&o.url, "url", "", "with --pid: the server's host:port (http only)")
	fs.StringVar(&o.tokensFile, "tokens", "", "with --pid: file of session tokens, one a line")
	fs.StringVar(&o.chat, "chat", "", "with --pid: the chat id to post in (the tokens' users must be members)")
	var serverArgs stringsFlag
	fs.Var(&serverArgs, "server-arg", "extra argument for herald-server serve (repeatable), e.g. --server-arg=--keepalive=5s")
	fs.StringVar(&o.tmp, "tmp", "", "directory for the temp data dirs (default: $TMPDIR)")
	fs.StringVar(&o.presets, "preset", "", "comma-separated presets: fanout, idle, connect, saturate, publish, resume, sweep, make (the `make bench` set); the scenario flags are ignored then")
	fs.BoolVar(&o.baseline, "baseline", false, "also run every scenario against the built-in naive hub and print herald/naive ratios")
	fs.IntVar(&o.rounds, "rounds", 1, "rounds; with --baseline each round runs naive and herald, alternating which goes first")
	fs.StringVar(&o.csv, "csv", "", "append one row per (target, round, scenario) to this CSV file")
	fs.IntVar(&o.connectConc, "connect-concurrency", 64, "subscribers connecting at once")
	fs.StringVar(&o.profileDir, "profile", "", "write herald-server CPU profiles of the connect, idle and publish phases into this directory (SCENARIO-ROUND-PHASE.pprof; the server gets --pprof-addr)")
	fs.Float64Var(&o.sweepRate, "sweep-rate", 20000, "sweep preset: total deliveries/s held at every subscriber count")
	fs.IntVar(&o.sc.subscribers, "subscribers", 1000, "subscribers (raw TCP SSE streams)")
	fs.IntVar(&o.sc.messages, "messages", 0, "messages to publish (0: rate × duration)")
	fs.Float64Var(&o.sc.rate, "rate", 50, "messages/s (0: as fast as the posters go, saturated)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "publishing time, when --messages is 0")
	fs.IntVar(&o.sc.posters, "posters", 4, "concurrent posters (keep-alive HTTP clients)")
	fs.DurationVar(&o.sc.idle, "idle", 0, "hold the subscribers idle this long after connecting and measure the server's CPU")
	fs.IntVar(&o.sc.resume, "resume", 0, "close this many subscribers, publish --backlog, resume them with Last-Event-ID")
	fs.IntVar(&o.sc.backlog, "backlog", 100, "messages the resumed subscribers missed")
	fs.IntVar(&o.sc.otherChats, "other-chats", 0, "chats the subscribers are not in (for --log-events, --busy-after)")
	fs.IntVar(&o.sc.logEvents, "log-events", 0, "messages written in the other chats through the store before the server starts")
	fs.IntVar(&o.sc.busyAfter, "busy-after", 0, "messages posted in the other chats through REST while the resumed subscribers are away")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.serverArgs = serverArgs
	o.url = strings.TrimSuffix(strings.TrimPrefix(o.url, "http://"), "/")
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.pid != 0 && (o.url == "" || o.baseline) {
		return errors.New("--pid needs --url and cannot take --baseline (start both targets with the tool instead)")
	}
	if o.rounds < 1 {
		return fmt.Errorf("--rounds %d: at least 1", o.rounds)
	}
	scs, err := o.scenarios()
	if err != nil {
		return err
	}
	limit, err := raiseFDLimit()
	if err != nil {
		return err
	}
	for _, sc := range scs {
		// The tool's own fds: one per subscriber, one per poster, and some slack for the
		// runtime, the child's pipes and files.
		if need := uint64(sc.subscribers + sc.posters + 64); need > limit {
			return fmt.Errorf("scenario %s needs about %d file descriptors; the limit is %d", sc.name, need, limit)
		}
	}
	if o.pid == 0 {
		if _, err := os.Stat(o.server); err != nil {
			return fmt.Errorf("--server: %w (make server, or go build -o build/bin/herald-server ./backend/cmd/herald-server)", err)
		}
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	var all []*result
	for round := 1; round <= o.rounds; round++ {
		for _, sc := range scs {
			targets := []string{"herald"}
			if o.baseline {
				targets = []string{"naive", "herald"}
				if round%2 == 0 {
					targets = []string{"herald", "naive"}
				}
			}
			for _, kind := range targets {
				logf("round %d, %s, %s: %d subscribers, %d messages at %s/s, %d posters", round, sc.name, kind,
					sc.subscribers, sc.messages, rateText(sc.rate), sc.posters)
				res, err := runScenario(ctx, o, sc, kind, round, logf)
				if err != nil {
					return fmt.Errorf("round %d, %s, %s: %w", round, sc.name, kind, err)
				}
				printResult(stdout, res)
				if o.csv != "" {
					if err := appendCSV(o.csv, res); err != nil {
						return err
					}
				}
				all = append(all, res)
			}
		}
	}
	printSummary(stdout, all, o.baseline)
	return nil
}

func rateText(r float64) string {
	if r == 0 {
		return "max"
	}
	return fmt.Sprintf("%g", r)
}

// scenarios are the presets' scenarios, or the one the flags describe.
func (o *options) scenarios() ([]scenario, error) {
	if o.presets == "" {
		sc := o.sc
		sc.name = "custom"
		if sc.messages == 0 && sc.rate > 0 {
			sc.messages = int(sc.rate * o.duration.Seconds())
		}
		if sc.posters < 1 {
			return nil, fmt.Errorf("--posters %d: at least 1", sc.posters)
		}
		if (sc.logEvents > 0 || sc.busyAfter > 0) && sc.otherChats == 0 {
			return nil, errors.New("--log-events and --busy-after need --other-chats")
		}
		return []scenario{sc}, nil
	}
	var out []scenario
	for _, p := range strings.Split(o.presets, ",") {
		scs, ok := presets(strings.TrimSpace(p), o.sweepRate)
		if !ok {
			return nil, fmt.Errorf("--preset %q: fanout, idle, connect, saturate, publish, resume, sweep or make", p)
		}
		out = append(out, scs...)
	}
	return out, nil
}

// presets are the scenarios of issue 13's table.
func presets(name string, sweepRate float64) ([]scenario, bool) {
	switch name {
	case "fanout":
		return []scenario{
			{name: "fanout-1000", subscribers: 1000, messages: 750, rate: 50, posters: 4},
			{name: "fanout-5000", subscribers: 5000, messages: 150, rate: 10, posters: 4},
		}, true
	case "idle":
		return []scenario{{name: "idle-19000", subscribers: 19000, idle: 20 * time.Second, posters: 1}}, true
	case "connect":
		return []scenario{{name: "connect-5000", subscribers: 5000, posters: 1}}, true
	case "saturate":
		return []scenario{{name: "saturate-5000", subscribers: 5000, messages: 400, posters: 8}}, true
	case "publish":
		return []scenario{{name: "publish-32", subscribers: 100, messages: 10000, posters: 32}}, true
	case "resume":
		return []scenario{
			{name: "resume-1000", subscribers: 1000, posters: 8, resume: 1000, backlog: 100},
			{name: "resume-1000-log100k", subscribers: 1000, posters: 8, resume: 1000, backlog: 100, otherChats: 100, logEvents: 100000},
			{name: "resume-1000-busy45k", subscribers: 1000, posters: 32, resume: 1000, backlog: 100, otherChats: 100, busyAfter: 45000},
		}, true
	case "sweep":
		var out []scenario
		for _, n := range []int{100, 500, 1000, 2000, 5000, 10000, 19000} {
			rate := sweepRate / float64(n)
			msgs := max(int(rate*10), 10) // 10 s, at least 10 messages
			// Enough posters to hold the rate with POSTs taking up to 100 ms each.
			posters := min(max(4, int(math.Ceil(rate/10))), 32)
			out = append(out, scenario{name: fmt.Sprintf("sweep-%d", n), subscribers: n, messages: msgs, rate: rate, posters: posters})
		}
		return out, true
	case "make":
		return []scenario{
			{name: "fanout-1000", subscribers: 1000, messages: 750, rate: 50, posters: 4},
			{name: "publish-32", subscribers: 100, messages: 5000, posters: 32},
			{name: "idle-2000", subscribers: 2000, idle: 5 * time.Second, posters: 1},
			{name: "resume-1000", subscribers: 1000, posters: 8, resume: 1000, backlog: 100},
		}, true
	}
	return nil, false
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
