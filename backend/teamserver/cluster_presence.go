package teamserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/natslog"
	"github.com/herald-chat/herald/backend/presence"
	"github.com/nats-io/nats.go/jetstream"
)

// presenceBucket is the JetStream key-value bucket in which each node lists the users it holds
// streams of: one key per node.
const presenceBucket = "HERALD_PRESENCE"

// Bounds of the cluster's presence.
const (
	// presenceTick is how often a node checks its view for nodes gone silent and whether it
	// became (or stopped being) the writer, at most: a shorter TTL checks every TTL/3.
	presenceTick = 250 * time.Millisecond
	// presenceFeedParallel bounds the status writes the writer has in flight while it applies
	// one change of the view (a node that restarted lists hundreds of users at once): they
	// share the store's group commits.
	presenceFeedParallel = 32
	// presenceOpTimeout bounds one put or delete of the node's entry.
	presenceOpTimeout = 2 * time.Second
)

// presenceEntry is a node's entry in presenceBucket. It is rewritten whole: one entry of 26-byte
// user ids holds ~30,000 users within NATS's default 1 MB payload (a put beyond it fails and is
// logged; the node's users then stop counting once its last entry expires).
type presenceEntry struct {
	Node string `json:"node"`
	// Users maps every user the node holds a stream of to how many streams of theirs it opened
	// since it began holding them: a rise tells the writer that a client (re)connected, which
	// ends the user's away, as a stream opening does on a single server.
	Users map[string]uint64 `json:"users"`
}

// clusterPresence is a cluster node's backend.Presence (SCALEOUT.md, "Presence"):
//
//   - Every node counts the streams it holds per user and puts the set of those users into its
//     own entry of presenceBucket, at once after each change (changes that arrive while a put is
//     under way share the next one) and at least every TTL/3. A graceful stop deletes the entry;
//     a node that dies stops renewing it, and the bucket drops it TTL after its last put.
//   - Every node watches the bucket and keeps the cluster's view: which nodes hold which users.
//     A node not heard from for TTL counts as gone, entry or not — unless this node does not
//     hear its own entry either: then the bucket stalls (a JetStream leader election takes
//     ~7 s), nobody is dropped, and silence counts again once its own entries come back.
//   - The writer feeds the view into a presence.Tracker, one connection per node that holds a
//     user, which applies the single server's rules (online, away, offline a grace period
//     after the last stream anywhere closed) and writes each change with store.SetStatus: the
//     AGENT_STATUS_CHANGED it makes reaches every node through the log. A node that becomes the
//     writer starts a Tracker from the view it already holds; Tracker.Start then settles users
//     stored online whom no live node holds (those of a dead writer, say).
//
// So a dead node's users go offline about TTL plus a check (≤ 250 ms) plus the grace after its
// death; up to 2 TTL on a writer that had just started, or whose watch had to be started again
// (its consumer lived on a NATS node that died: measured 7.5 s instead of 4.8 s with a 4 s TTL). Away reports (PUT /api/me/presence) are
// writes: the writer's Tracker gets them; a forward that raced a change of writer is dropped.
//
// Connected, Disconnected and SetAway are safe for concurrent use. Two goroutines, started by
// startClusterPresence and ended by Close, own the rest: publishLoop (the node's entry) and
// viewLoop (the view and the writer's Tracker). Memory is bounded by the users held: a user
// leaves the maps when their last stream closes, a node when its entry goes.
type clusterPresence struct {
	n     *node
	store *bolt.Store
	kv    jetstream.KeyValue
	key   string        // this node's entry
	ttl   time.Duration // how long an entry counts after its last put
	grace time.Duration // presence.Tracker's grace (<= 0: its default)
	log   *slog.Logger

	mu    sync.Mutex
	conns map[string]int    // streams this node holds, by user
	opens map[string]uint64 // streams opened since this node began holding the user
	dirty chan struct{}     // capacity 1: the local set changed since the last put
	putOK atomic.Int64      // when a put of the entry last succeeded (Unix ns)

	view *presenceView // viewLoop's

	trMu    sync.Mutex
	tracker *presence.Tracker // while this node writes (viewLoop starts and closes it)
	term    uint64            // the node's term as writer (node.epoch) the tracker serves

	stop context.CancelFunc
	done sync.WaitGroup
}

var _ backend.Presence = (*clusterPresence)(nil)

// startClusterPresence opens presenceBucket (natslog.OpenPresence) and starts the node's loops. ttl <= 0 means twice the writer's lease TTL.
func startClusterPresence(ctx context.Context, n *node, store *bolt.Store, ttl, grace time.Duration, log *slog.Logger) (*clusterPresence, error) {
	if ttl <= 0 {
		ttl = 2 * n.cfg.LeaseTTL
	}
	kv, err := natslog.OpenPresence(ctx, n.js, natslog.PresenceConfig{Bucket: presenceBucket, TTL: ttl, Replicas: n.cfg.Replicas})
	if err != nil {
		return nil, err
	}
	p := &clusterPresence{n: n, store: store, kv: kv, ttl: ttl, grace: grace, log: n.log.With("component", "presence"),
		// Keys allow letters, digits and -_=./ only; a node's name may hold anything.
		key:   base64.RawURLEncoding.EncodeToString([]byte(n.cfg.NodeName)),
		conns: map[string]int{}, opens: map[string]uint64{}, dirty: make(chan struct{}, 1)}
	p.view = &presenceView{own: p.key, ttl: ttl, nodes: map[string]*heldBy{}}
	p.dirty <- struct{}{} // the first put replaces what a previous run of this node left
	rctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.done.Add(2)
	go p.publishLoop(rctx)
	go p.viewLoop(rctx)
	return p, nil
}

func (p *clusterPresence) Connected(userID string) {
	p.mu.Lock()
	p.conns[userID]++
	p.opens[userID]++
	p.mu.Unlock()
	p.changed()
}

func (p *clusterPresence) Disconnected(userID string) {
	p.mu.Lock()
	if p.conns[userID] == 0 {
		p.mu.Unlock()
		return
	}
	p.conns[userID]--
	if p.conns[userID] == 0 {
		delete(p.conns, userID)
		delete(p.opens, userID)
	}
	p.mu.Unlock()
	p.changed()
}

func (p *clusterPresence) changed() {
	select {
	case p.dirty <- struct{}{}:
	default: // a put is due already; it reads the latest set
	}
}

// SetAway records an away report on the writer (see presence.Tracker.SetAway) and returns the
// status it calls for. On a node that does not write — the report was forwarded as the writer
// changed — it records nothing and returns the status stored.
func (p *clusterPresence) SetAway(userID string, away bool) backend.AgentStatus {
	p.trMu.Lock()
	tr := p.tracker
	p.trMu.Unlock()
	if tr != nil {
		return tr.SetAway(userID, away)
	}
	u, err := p.store.User(context.Background(), userID)
	if err != nil || u.Status == "" {
		return backend.StatusOffline
	}
	return u.Status
}

// publishLoop puts the node's entry after each change and at least every TTL/3, until ctx
// ends. A failed put is logged (once per run of failures) and tried again presenceTick later.
func (p *clusterPresence) publishLoop(ctx context.Context) {
	defer p.done.Done()
	refresh := time.NewTicker(p.ttl / 3)
	defer refresh.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.dirty:
		case <-refresh.C:
		}
		p.mu.Lock()
		e := presenceEntry{Node: p.n.cfg.NodeName, Users: make(map[string]uint64, len(p.opens))}
		for id, n := range p.opens {
			e.Users[id] = n
		}
		p.mu.Unlock()
		payload, err := json.Marshal(e)
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, min(presenceOpTimeout, p.ttl/3))
			_, err = p.kv.Put(pctx, p.key, payload)
			cancel()
		}
		if err == nil {
			p.putOK.Store(time.Now().UnixNano())
		}
		if err != nil && ctx.Err() == nil {
			time.AfterFunc(presenceTick, p.changed) // sooner than the refresh: others may count us out
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			p.log.Warn("this node's streams could not be reported to the cluster; retrying", "users", len(e.Users), "err", err)
		case err == nil && failing:
			failing = false
			p.log.Info("this node's streams are reported to the cluster again", "users", len(e.Users))
		}
	}
}

// presenceView is a node's view of the cluster's presence: which nodes hold which users, from
// the bucket's watch. viewLoop changes it; the mutex lets tests read it.
type presenceView struct {
	own string        // this node's entry key
	ttl time.Duration // an entry not heard from for this long is gone

	mu    sync.Mutex
	nodes map[string]*heldBy // by entry key
	// ownSeen is when this node's own entry last came back through the watch, upSince when the
	// current run of them began (after a gap). A node that does not hear itself cannot tell a
	// dead node from a stalled bucket (a JetStream leader election stalls puts ~7 s): it drops
	// nobody then, and counts silence only from upSince on.
	ownSeen, upSince time.Time
}

// heldBy is what the view knows of one node: the users of its last entry and when it came.
type heldBy struct {
	users map[string]uint64
	seen  time.Time
	rev   uint64 // the entry's revision: a watch started again delivers it again, not anew
}

// gap is how long this node's own entries may stay away before the view stops trusting the
// bucket: two refreshes.
func (v *presenceView) gap() time.Duration { return 2 * v.ttl / 3 }

// received applies one watched entry (at now) and returns the changes it makes.
func (v *presenceView) received(e jetstream.KeyValueEntry, now time.Time, log *slog.Logger) []presenceFeed {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.Key() == v.own && (v.nodes[e.Key()] == nil || v.nodes[e.Key()].rev != e.Revision()) {
		if now.Sub(v.ownSeen) > v.gap() {
			v.upSince = now
		}
		v.ownSeen = now
	}
	old := v.nodes[e.Key()]
	var before map[string]uint64
	if old != nil {
		before = old.users
	}
	if e.Operation() != jetstream.KeyValuePut {
		delete(v.nodes, e.Key()) // a node that stopped gracefully
		return diffHeld(before, nil)
	}
	var entry presenceEntry
	if err := json.Unmarshal(e.Value(), &entry); err != nil {
		log.Warn("a node's presence entry could not be read", "entry", e.Key(), "err", err)
		return nil
	}
	if entry.Users == nil {
		entry.Users = map[string]uint64{}
	}
	seen := now
	if old != nil && old.rev == e.Revision() {
		seen = old.seen // the same put, delivered again by a new watch: no sign of life
	}
	v.nodes[e.Key()] = &heldBy{users: entry.Users, seen: seen, rev: e.Revision()}
	return diffHeld(before, entry.Users)
}

// expire drops the nodes not heard from for the TTL (see ownSeen) and returns the changes.
func (v *presenceView) expire(now time.Time, log *slog.Logger) []presenceFeed {
	v.mu.Lock()
	defer v.mu.Unlock()
	if now.Sub(v.ownSeen) > v.gap() {
		return nil
	}
	var gone []presenceFeed
	for key, h := range v.nodes {
		if now.Sub(later(h.seen, v.upSince)) > v.ttl {
			log.Info("a node's streams stopped counting: not heard from within the presence TTL", "entry", key, "users", len(h.users), "ttl", v.ttl)
			gone = append(gone, diffHeld(h.users, nil)...)
			delete(v.nodes, key)
		}
	}
	return gone
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// all lists one connection per node for each user a node holds: a new Tracker's start.
func (v *presenceView) all() (ops []presenceFeed, nodes int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, h := range v.nodes {
		for id := range h.users {
			ops = append(ops, presenceFeed{id, feedConnected})
		}
	}
	return ops, len(v.nodes)
}

// deaf reports whether the watch has stopped delivering: this node's puts succeed (the last at
// putOK) yet none of them came back for a gap. A watch whose consumer lived on a NATS node that
// died can stay silent until it is started again.
func (v *presenceView) deaf(now, putOK time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return now.Sub(v.ownSeen) > v.gap() && now.Sub(putOK) < v.gap()
}

// holders is how many nodes hold a stream of userID, as this node sees it.
func (v *presenceView) holders(userID string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, h := range v.nodes {
		if _, ok := h.users[userID]; ok {
			n++
		}
	}
	return n
}

// presenceFeed is one change of the view for the writer's Tracker.
type presenceFeed struct {
	user string
	op   feedOp
}

type feedOp byte

const (
	feedConnected    feedOp = iota // a node began holding the user
	feedDisconnected               // a node stopped holding them (or is gone)
	feedReopened                   // a node that holds them opened another stream of theirs
)

// viewLoop keeps the view from the bucket's watch until ctx ends, drops nodes gone silent, and
// runs the writer's Tracker while this node writes. A watch that ends (NATS trouble) is started
// again at the next check; meanwhile the view stands.
func (p *clusterPresence) viewLoop(ctx context.Context) {
	defer p.done.Done()
	defer p.setTracker(nil, 0)
	check := time.NewTicker(min(presenceTick, p.ttl/3))
	defer check.Stop()
	var w jetstream.KeyWatcher
	var updates <-chan jetstream.KeyValueEntry
	var watched time.Time // when the watch last started
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	for {
		if updates == nil {
			var err error
			watched = time.Now()
			if w, err = p.kv.WatchAll(ctx); err != nil {
				if ctx.Err() == nil {
					p.log.Warn("the cluster's presence could not be watched; retrying", "err", err)
				}
				w = nil
			} else {
				updates = w.Updates()
			}
		}
		select {
		case <-ctx.Done():
			return
		case e, ok := <-updates:
			if !ok {
				updates = nil
				if w != nil {
					_ = w.Stop()
					w = nil
				}
				continue
			}
			if e != nil { // nil: the entries the bucket held are all in
				p.feed(ctx, p.view.received(e, time.Now(), p.log))
			}
		case now := <-check.C:
			if w != nil && now.Sub(watched) > p.view.gap() && p.view.deaf(now, time.Unix(0, p.putOK.Load())) {
				p.log.Warn("the cluster's presence watch went silent; watching again")
				_ = w.Stop()
				w, updates = nil, nil
			}
			p.feed(ctx, p.view.expire(now, p.log))
		}
		p.followRole(ctx)
	}
}

// diffHeld lists what changed between two entries of one node.
func diffHeld(before, after map[string]uint64) []presenceFeed {
	var out []presenceFeed
	for id, opens := range after {
		was, held := before[id]
		switch {
		case !held:
			out = append(out, presenceFeed{id, feedConnected})
		case opens > was:
			out = append(out, presenceFeed{id, feedReopened})
		}
	}
	for id := range before {
		if _, held := after[id]; !held {
			out = append(out, presenceFeed{id, feedDisconnected})
		}
	}
	return out
}

// followRole starts a Tracker from the view when this node began a term as the writer, and
// closes it when the term ended.
func (p *clusterPresence) followRole(ctx context.Context) {
	p.trMu.Lock()
	running, term := p.tracker != nil, p.term
	p.trMu.Unlock()
	leading, now := p.n.leading.Load(), p.n.epoch.Load()
	switch {
	case leading && (!running || term != now):
		// Read before the Tracker writes: users held and stored away stay away (the previous
		// writer's Tracker had the report).
		users, err := p.store.Users(ctx)
		if err != nil {
			return // tried again at the next check
		}
		tr := presence.New(p.store, p.grace, p.log)
		p.setTracker(tr, now)
		ops, nodes := p.view.all()
		p.feed(ctx, ops)
		for _, u := range users {
			if u.Status == backend.StatusAway {
				tr.SetAway(u.ID, true) // dropped unless a node holds them; Start settles those
			}
		}
		if err := tr.Start(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("settling the statuses stored as this node became the writer", "err", err)
		}
		p.log.Info("this node writes the cluster's presence", "nodes", nodes)
	case !leading && running:
		p.setTracker(nil, 0)
	}
}

// setTracker replaces the writer's Tracker, closing the one before (its pending offline timers
// stop; the next writer's Start settles those users).
func (p *clusterPresence) setTracker(tr *presence.Tracker, term uint64) {
	p.trMu.Lock()
	old := p.tracker
	p.tracker, p.term = tr, term
	p.trMu.Unlock()
	if old != nil {
		old.Close()
	}
}

// feed hands changes of the view to the writer's Tracker, at most presenceFeedParallel at once,
// and returns when they are stored (or failed, logged by the Tracker). Each user appears once
// in one node's changes; a takeover's may list a user once per node, which the Tracker counts.
func (p *clusterPresence) feed(ctx context.Context, ops []presenceFeed) {
	p.trMu.Lock()
	tr := p.tracker
	p.trMu.Unlock()
	if tr == nil || len(ops) == 0 {
		return
	}
	sem := make(chan struct{}, presenceFeedParallel)
	var wg sync.WaitGroup
	for _, op := range ops {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			switch op.op {
			case feedConnected:
				tr.Connected(op.user)
			case feedDisconnected:
				tr.Disconnected(op.user)
			case feedReopened:
				// Another stream on a node already counted: Connected ends the user's away as
				// a stream that opens does; Disconnected takes the extra count back.
				tr.Connected(op.user)
				tr.Disconnected(op.user)
			}
		})
	}
	wg.Wait()
}

// Close stops the loops and the writer's Tracker (statuses stay as stored) and deletes this
// node's entry, so that the writer counts its streams out at once rather than after the TTL.
// Close the API's streams first: their Disconnected calls come before. With NATS gone the
// delete fails and the entry expires instead.
func (p *clusterPresence) Close() {
	p.stop()
	p.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), presenceOpTimeout)
	defer cancel()
	if err := p.kv.Delete(ctx, p.key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		p.log.Info("this node's presence entry was not deleted; it expires", "ttl", p.ttl, "err", err)
	}
}
