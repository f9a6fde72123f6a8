package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// scenario is one load shape, run once per target and round on a fresh server.
type scenario struct {
	name        string
	subscribers int
	messages    int     // bench messages in the publish phase (0: none)
	rate        float64 // messages/s; 0: saturated
	posters     int
	idle        time.Duration // hold the subscribers idle this long after connecting (0: no)
	resume      int           // subscribers to close and resume with Last-Event-ID (0: no)
	backlog     int           // messages they miss
	otherChats  int           // chats the subscribers are not in
	logEvents   int           // messages in otherChats, written through the store before the server starts
	busyAfter   int           // messages in otherChats, posted through REST while the resumers are away
}

// result holds every figure of one (target, round, scenario); NaN-free: a figure not measured is 0
// and its "measured" flag says so in the report.
type result struct {
	target, scenario         string
	round                    int
	sc                       scenario
	delivered, expected      int64
	gaps, dups, others       int64
	latP50, latP99, latMax   time.Duration
	rssPerSubKiB             float64
	connectCPUPerSub         time.Duration
	cpuPerDelivery           time.Duration
	deliveriesPerS           float64
	postP50, postP99         time.Duration
	postFailed               int
	publishesPerS            float64
	idleCPUPer20s            time.Duration
	resumes                  int
	resumeCPU                time.Duration // per resume
	resumeExact, resumeTotal int
	fixtureTook              time.Duration
}

// markerPhase is the phase of the message that precedes a resume.
const markerPhase = maxPhases - 1

// settleLimit bounds each wait for the server to go quiet before a measured phase.
const settleLimit = 15 * time.Second

// drainIdle is how long the tool waits for more deliveries when none arrived before it gives up
// on the missing ones.
const drainIdle = 5 * time.Second

// runScenario starts the target on a fresh data dir, runs sc's phases against it and stops it.
func runScenario(ctx context.Context, o *options, sc scenario, kind string, round int, logf func(string, ...any)) (*result, error) {
	dir, err := os.MkdirTemp(o.tmp, "herald-bench-*")
	if err != nil {
		return nil, fmt.Errorf("create a temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	res := &result{target: kind, scenario: sc.name, round: round, sc: sc}
	var (
		t  *target
		fx *fixture
	)
	switch {
	case kind == "naive":
		fx = naiveFixture(sc)
		if t, err = startNaive(ctx, dir); err != nil {
			return nil, err
		}
	case o.pid != 0:
		if fx, err = externalFixture(o, sc); err != nil {
			return nil, err
		}
		t = &target{name: kind, addr: o.url, pid: o.pid}
	default:
		if fx, err = prepareDataDir(ctx, dir, fixtureSpec{subscribers: sc.subscribers, posters: sc.posters,
			otherChats: sc.otherChats, logEvents: sc.logEvents}); err != nil {
			return nil, err
		}
		res.fixtureTook = fx.took
		logf("  fixture: %d sessions, %d log events in %d other chats, %s", sc.subscribers+sc.posters, fx.logEvents, len(fx.otherChats), fx.took.Round(time.Millisecond))
		args := o.serverArgs
		var pprofAddr string
		if o.profileDir != "" {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			pprofAddr = fmt.Sprintf("127.0.0.1:%d", port)
			args = append(slices.Clone(args), "--pprof-addr", pprofAddr)
		}
		if t, err = startHerald(ctx, o.server, dir, args); err != nil {
			return nil, err
		}
		t.pprof = pprofAddr
	}
	defer t.stop()
	// profile takes a CPU profile of the phase about to start, for herald with --profile.
	profile := func(phase string, window time.Duration) *cpuProfile {
		if t.pprof == "" {
			return nil
		}
		return profileCPU(ctx, t.pprof, o.profileDir, fmt.Sprintf("%s-%d-%s", sc.name, round, phase), window)
	}
	profiled := func(p *cpuProfile) {
		if err := p.wait(); err != nil {
			logf("  %v", err)
		}
	}

	rn := &runState{addr: t.addr, progress: make(chan struct{}, 1)}
	for i := range rn.lat {
		rn.lat[i] = &histogram{}
	}
	subs := make([]*subscriber, sc.subscribers)
	for i := range subs {
		subs[i] = &subscriber{idx: i, token: fx.subTokens[i]}
	}
	defer func() {
		for _, s := range subs {
			s.close()
		}
	}()

	settle(t.pid, settleLimit)
	s0, err := sampleProc(t.pid)
	if err != nil {
		return nil, err
	}
	prof := profile("connect", 2*time.Second+time.Duration(sc.subscribers)*time.Second/5000)
	if err := connectAll(ctx, rn, subs, o.connectConc, false); err != nil {
		return nil, err
	}
	connected := time.Now()
	profiled(prof)
	// What the connects set off (presence changes fanned out to co-members) is part of their
	// cost: the phase ends when the server is quiet again.
	settle(t.pid, settleLimit)
	s1, err := sampleProc(t.pid)
	if err != nil {
		return nil, err
	}
	n := int64(sc.subscribers)
	if n > 0 {
		res.connectCPUPerSub = (s1.cpu - s0.cpu) / time.Duration(n)
		res.rssPerSubKiB = float64(s1.rssKiB-s0.rssKiB) / float64(n)
	}
	logf("  connected %d in %s, quiet after %s", n, connected.Sub(s0.at).Round(time.Millisecond), s1.at.Sub(s0.at).Round(time.Millisecond))

	if sc.idle > 0 {
		i0, err := sampleProc(t.pid)
		if err != nil {
			return nil, err
		}
		prof := profile("idle", sc.idle)
		select {
		case <-time.After(sc.idle):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		i1, err := sampleProc(t.pid)
		if err != nil {
			return nil, err
		}
		res.idleCPUPer20s = time.Duration(float64(i1.cpu-i0.cpu) * float64(20*time.Second) / float64(i1.at.Sub(i0.at)))
		profiled(prof) // before the next phase: one CPU profile at a time
	}

	if sc.messages > 0 {
		settle(t.pid, settleLimit)
		p0, err := sampleProc(t.pid)
		if err != nil {
			return nil, err
		}
		window := 10 * time.Second
		if sc.rate > 0 {
			window = time.Duration(float64(sc.messages) / sc.rate * float64(time.Second))
		}
		pubProf := profile("publish", window)
		pr := publish(ctx, t.addr, publishSpec{phase: 1, messages: sc.messages, rate: sc.rate, posters: sc.posters,
			chatID: fx.chatID, tokens: fx.postTokens})
		res.expected = n * int64(sc.messages)
		waitDeliveries(ctx, rn, 1, res.expected)
		p1, err := sampleProc(t.pid)
		if err != nil {
			return nil, err
		}
		if pr.failed > 0 {
			logf("  %d posts failed, the first: %v", pr.failed, pr.firstErr)
		}
		res.postFailed = pr.failed
		res.delivered = rn.delivered[1].Load()
		for _, s := range subs {
			res.gaps += max(0, int64(sc.messages)-s.counts[1].Load())
			res.dups += s.dups.Load()
		}
		if res.delivered > 0 {
			res.cpuPerDelivery = (p1.cpu - p0.cpu) / time.Duration(res.delivered)
			res.deliveriesPerS = float64(res.delivered) / time.Duration(rn.lastRecv.Load()-pr.start.UnixNano()).Seconds()
		}
		h := rn.lat[1]
		res.latP50, res.latP99, res.latMax = h.Quantile(0.50), h.Quantile(0.99), h.Max()
		res.postP50, res.postP99 = percentile(pr.post, 0.50), percentile(pr.post, 0.99)
		res.publishesPerS = float64(len(pr.post)) / pr.end.Sub(pr.start).Seconds()
		profiled(pubProf) // before the resume's: one CPU profile at a time
	}

	if sc.resume > 0 && kind == "naive" {
		logf("  resume: the naive hub keeps no log, not measured")
	} else if sc.resume > 0 {
		if err := measureResume(ctx, o, sc, rn, t, fx, subs, res, logf); err != nil {
			return nil, err
		}
	}
	for _, s := range subs {
		res.others += s.others.Load()
	}
	return res, nil
}

// waitDeliveries waits until want bench events of phase arrived, or none arrived for drainIdle.
func waitDeliveries(ctx context.Context, rn *runState, phase int, want int64) {
	timer := time.NewTimer(drainIdle)
	defer timer.Stop()
	for rn.delivered[phase].Load() < want {
		select {
		case <-rn.progress:
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(drainIdle)
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// measureResume closes sc.resume subscribers, publishes sc.backlog messages in their chat (and
// sc.busyAfter in the other chats, interleaved), reconnects them with Last-Event-ID and checks
// that each got exactly the missed events, in the order a live subscriber saw them.
func measureResume(ctx context.Context, o *options, sc scenario, rn *runState, t *target, fx *fixture, subs []*subscriber, res *result, logf func(string, ...any)) error {
	k := min(sc.resume, len(subs))
	away, live := subs[:k], subs[k:]
	// One marker message first, so that every subscriber has seen an event id to resume from
	// even when the scenario published nothing before.
	mr := publish(ctx, t.addr, publishSpec{phase: markerPhase, messages: 1, posters: 1, chatID: fx.chatID, tokens: fx.postTokens})
	if mr.failed > 0 {
		return fmt.Errorf("post the marker message: %w", mr.firstErr)
	}
	waitDeliveries(ctx, rn, markerPhase, int64(len(subs)))
	for _, s := range away {
		s.close()
		s.seqs, s.track = make([]int, 0, sc.backlog), 2
	}
	var ref *subscriber
	if len(live) > 0 {
		// The reference's reader runs: it is set up before phase 2's first post, and the
		// close-and-reopen gives the happens-before edge.
		ref = live[0]
		ref.close()
		ref.seqs, ref.track = make([]int, 0, sc.backlog), 2
		if err := ref.dialStream(rn, "", 30*time.Second); err != nil {
			return fmt.Errorf("reopen the reference subscriber: %w", err)
		}
	}
	spec := publishSpec{phase: 2, messages: sc.backlog, posters: sc.posters, chatID: fx.chatID, tokens: fx.postTokens}
	if sc.busyAfter > 0 && len(fx.otherChats) > 0 {
		spec.otherChats, spec.otherTokens = fx.otherChats, fx.otherTokens
		spec.other = sc.busyAfter / max(sc.backlog, 1)
	}
	pr := publish(ctx, t.addr, spec)
	if pr.failed > 0 {
		logf("  resume backlog: %d posts failed, the first: %v", pr.failed, pr.firstErr)
	}
	waitDeliveries(ctx, rn, 2, int64(len(live)*sc.backlog))
	settle(t.pid, settleLimit)
	before := rn.delivered[2].Load()
	r0, err := sampleProc(t.pid)
	if err != nil {
		return err
	}
	var prof *cpuProfile
	if t.pprof != "" {
		prof = profileCPU(ctx, t.pprof, o.profileDir, fmt.Sprintf("%s-resume", sc.name), 2*time.Second+time.Duration(len(away))*time.Second/1000)
		defer func() {
			if err := prof.wait(); err != nil {
				logf("  %v", err)
			}
		}()
	}
	if err := connectAll(ctx, rn, away, o.connectConc, true); err != nil {
		return err
	}
	waitDeliveries(ctx, rn, 2, before+int64(k*sc.backlog))
	r1, err := sampleProc(t.pid)
	if err != nil {
		return err
	}
	res.resumes = k
	res.resumeCPU = (r1.cpu - r0.cpu) / time.Duration(k)
	res.resumeTotal = k
	for _, s := range away {
		if s.counts[2].Load() != int64(sc.backlog) || s.dups.Load() != 0 {
			continue
		}
		if ref != nil {
			if slices.Equal(s.seqs, ref.seqs) {
				res.resumeExact++
			}
		} else if isPermutation(s.seqs, sc.backlog) {
			res.resumeExact++
		}
	}
	logf("  resumed %d: %d exact, %s server CPU each", k, res.resumeExact, res.resumeCPU.Round(time.Microsecond))
	return nil
}

// isPermutation reports whether seqs holds each of 0 … n-1 exactly once.
func isPermutation(seqs []int, n int) bool {
	if len(seqs) != n {
		return false
	}
	seen := make([]bool, n)
	for _, s := range seqs {
		if s < 0 || s >= n || seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

// naiveFixture: the naive hub ignores auth and chats, so any token and chat id do.
func naiveFixture(sc scenario) *fixture {
	f := &fixture{chatID: "BENCH", subTokens: make([]string, sc.subscribers), postTokens: []string{"naive"}}
	for i := range f.subTokens {
		f.subTokens[i] = "naive"
	}
	return f
}

// externalFixture reads --tokens (one session token a line, at least one) and --chat for a
// server the tool did not start: subscriber i uses token i mod count, posters too.
func externalFixture(o *options, sc scenario) (*fixture, error) {
	if o.tokensFile == "" || o.chat == "" {
		return nil, fmt.Errorf("--pid needs --tokens FILE and --chat ID (a chat the tokens' users are members of)")
	}
	b, err := os.ReadFile(o.tokensFile)
	if err != nil {
		return nil, fmt.Errorf("read --tokens: %w", err)
	}
	toks := splitLines(string(b))
	if len(toks) == 0 {
		return nil, fmt.Errorf("--tokens %s holds no token", o.tokensFile)
	}
	f := &fixture{chatID: o.chat, subTokens: make([]string, sc.subscribers), postTokens: toks}
	for i := range f.subTokens {
		f.subTokens[i] = toks[i%len(toks)]
	}
	return f, nil
}
