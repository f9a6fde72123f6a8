package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
)

// fixture is what the tool put in a data dir before the server starts: tokens for the
// subscribers and posters (all members of chatID), and the chats that only the "other" user is in.
type fixture struct {
	chatID      string
	subTokens   []string // one session per subscriber
	postTokens  []string // one session per poster
	otherChats  []string
	otherTokens []string // sessions of the user of the other chats, one per poster
	logEvents   int      // messages posted in the other chats before the server started
	took        time.Duration
}

// fixtureSpec says what to create.
type fixtureSpec struct {
	subscribers, posters int
	otherChats           int // chats the subscribers are not in
	logEvents            int // messages to post in them through the store, round robin
}

// setupConcurrency is how many store writes the fixture keeps in flight: the store commits
// concurrent writes together, so this is roughly the batch size per fsync.
const setupConcurrency = 128

// prepareDataDir creates dir/herald.db (the file teamserver.Open uses) with the fixture, through
// the store itself — no password hashing, no HTTP — and closes it. Users: min(subscribers +
// posters, backend.MaxChatMembers) in one channel; subscriber i signs in as user i mod the
// subscribers' share (a chat holds at most MaxChatMembers, so beyond it a user has several
// streams, each its own session). Posters are users of their own while the chat has room for
// them, as people in a channel are: 100 subscribers and 32 posters are a channel of 132, above
// backend.MessageNotifyLimit, where a message notifies only those it mentions.
func prepareDataDir(ctx context.Context, dir string, spec fixtureSpec) (*fixture, error) {
	start := time.Now()
	store, err := bolt.Open(filepath.Join(dir, "herald.db"))
	if err != nil {
		return nil, err
	}
	defer store.Close() // on an error path; Close is idempotent
	nUsers := min(max(spec.subscribers+spec.posters, 1), backend.MaxChatMembers)
	// Subscribers sign in as the first nSubUsers users, posters as the rest (or, in a full
	// chat, as subscribers' users too).
	nSubUsers := max(min(spec.subscribers, nUsers-spec.posters), 1)
	users := make([]*backend.User, nUsers)
	users[0] = &backend.User{Username: "bench0", DisplayName: "Bench 0"}
	if err := store.CreateUser(ctx, users[0], ""); err != nil {
		return nil, fmt.Errorf("create the first user: %w", err)
	}
	now := time.Now()
	invite := randomToken()
	if err := store.CreateInvite(ctx, backend.Invite{Code: invite, CreatedBy: users[0].ID, CreatedAt: now.UnixMilli(),
		ExpiresAt: now.Add(time.Hour).UnixMilli(), MaxUses: nUsers + 1}); err != nil {
		return nil, fmt.Errorf("create an invite: %w", err)
	}
	if err := parallel(ctx, nUsers-1, setupConcurrency, func(i int) error {
		u := &backend.User{Username: fmt.Sprintf("bench%d", i+1), DisplayName: fmt.Sprintf("Bench %d", i+1)}
		users[i+1] = u
		return store.CreateUser(ctx, u, invite)
	}); err != nil {
		return nil, fmt.Errorf("create users: %w", err)
	}
	ids := make([]string, nUsers)
	for i, u := range users {
		ids[i] = u.ID
	}
	chat := &backend.Chat{Kind: backend.ChatChannel, Name: "bench", CreatedBy: ids[0], MemberIDs: ids}
	if err := store.CreateChat(ctx, chat); err != nil {
		return nil, fmt.Errorf("create the channel: %w", err)
	}
	f := &fixture{chatID: chat.ID, subTokens: make([]string, spec.subscribers), postTokens: make([]string, spec.posters)}
	session := func(tokens []string, userOf func(int) string) func(int) error {
		return func(i int) error {
			tok := randomToken()
			tokens[i] = tok
			return store.CreateSession(ctx, tok, backend.Session{UserID: userOf(i), CreatedAt: now,
				ExpiresAt: now.Add(24 * time.Hour), Device: "herald-bench"})
		}
	}
	if err := parallel(ctx, spec.subscribers, setupConcurrency, session(f.subTokens, func(i int) string { return ids[i%nSubUsers] })); err != nil {
		return nil, fmt.Errorf("create subscriber sessions: %w", err)
	}
	if err := parallel(ctx, spec.posters, setupConcurrency, session(f.postTokens, func(i int) string {
		if nUsers-nSubUsers >= spec.posters {
			return ids[nSubUsers+i]
		}
		return ids[i%nUsers]
	})); err != nil {
		return nil, fmt.Errorf("create poster sessions: %w", err)
	}
	if spec.otherChats > 0 {
		other := &backend.User{Username: "other", DisplayName: "Other"}
		if err := store.CreateUser(ctx, other, invite); err != nil {
			return nil, fmt.Errorf("create the other chats' user: %w", err)
		}
		f.otherChats = make([]string, spec.otherChats)
		if err := parallel(ctx, spec.otherChats, setupConcurrency, func(i int) error {
			c := &backend.Chat{Kind: backend.ChatPrivate, Name: fmt.Sprintf("other-%d", i), CreatedBy: other.ID}
			if err := store.CreateChat(ctx, c); err != nil {
				return err
			}
			f.otherChats[i] = c.ID
			return nil
		}); err != nil {
			return nil, fmt.Errorf("create the other chats: %w", err)
		}
		f.otherTokens = make([]string, max(spec.posters, 1))
		if err := parallel(ctx, len(f.otherTokens), setupConcurrency, session(f.otherTokens, func(int) string { return other.ID })); err != nil {
			return nil, fmt.Errorf("create the other user's sessions: %w", err)
		}
		if err := parallel(ctx, spec.logEvents, setupConcurrency, func(i int) error {
			_, _, err := store.PostMessage(ctx, &backend.Message{ChatID: f.otherChats[i%len(f.otherChats)], AuthorID: other.ID,
				Content: fmt.Sprintf("filler %d", i)})
			return err
		}); err != nil {
			return nil, fmt.Errorf("fill the log: %w", err)
		}
		f.logEvents = spec.logEvents
	}
	f.took = time.Since(start)
	return f, store.Close()
}

// parallel calls fn(0) … fn(n-1) with at most conc calls at once and returns the first error;
// after an error no new calls start.
func parallel(ctx context.Context, n, conc int, fn func(i int) error) error {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
		failed  atomic.Bool
	)
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errOnce.Do(func() { first = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
