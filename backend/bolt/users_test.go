package bolt_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

func TestCreateUserFirstBecomesAdminWithoutInvite(t *testing.T) {
	for _, code := range []string{"", "some-code-that-was-never-issued"} {
		t.Run(fmt.Sprintf("invite=%q", code), func(t *testing.T) {
			e := newEnv(t)
			u := &backend.User{Username: "alice", DisplayName: "Alice", PasswordHash: "h", Role: backend.RoleMember}
			wantNoError(t, e.s.CreateUser(e.ctx, u, code), "CreateUser")
			if u.Role != backend.RoleAdmin {
				t.Errorf("first user's role = %q, want %q", u.Role, backend.RoleAdmin)
			}
			if _, err := ulid.ParseStrict(u.ID); err != nil {
				t.Errorf("user id %q is not a ULID: %v", u.ID, err)
			}
			if u.CreatedAt != t0.UnixMilli() {
				t.Errorf("CreatedAt = %d, want the clock's %d", u.CreatedAt, t0.UnixMilli())
			}
			got, err := e.s.User(e.ctx, u.ID)
			wantNoError(t, err, "User")
			if got.Role != backend.RoleAdmin {
				t.Errorf("stored role = %q, want admin", got.Role)
			}
			// Users never emit events.
			if n := e.pub.Len(); n != 0 {
				t.Errorf("CreateUser published %d events", n)
			}
		})
	}
}

// The first user's invite code is ignored, so it is not used up either.
func TestCreateUserFirstIgnoresAndKeepsInvite(t *testing.T) {
	e := newEnv(t)
	e.inviteCode("early-invite", "nobody", t0.Add(time.Hour))
	first := &backend.User{Username: "alice"}
	wantNoError(t, e.s.CreateUser(e.ctx, first, "early-invite"), "first CreateUser")
	if first.Role != backend.RoleAdmin {
		t.Errorf("first user's role = %q, want admin", first.Role)
	}
	second := &backend.User{Username: "bob"}
	wantNoError(t, e.s.CreateUser(e.ctx, second, "early-invite"), "second CreateUser with the same invite")
	if second.Role != backend.RoleMember {
		t.Errorf("second user's role = %q, want member", second.Role)
	}
}

func TestCreateUserNeedsValidInvite(t *testing.T) {
	tests := []struct {
		name    string
		code    func(e *env, admin *backend.User) string
		advance time.Duration // clock movement between creating the invite and using it
		want    string        // "" for success
	}{
		{"valid", func(e *env, a *backend.User) string { return e.invite(a.ID) }, 0, ""},
		{"valid until the last millisecond", func(e *env, a *backend.User) string { return e.invite(a.ID) }, time.Hour - time.Millisecond, ""},
		{"missing", func(*env, *backend.User) string { return "" }, 0, backend.EFORBIDDEN},
		{"unknown", func(*env, *backend.User) string { return "never-issued" }, 0, backend.EFORBIDDEN},
		{"expired exactly now", func(e *env, a *backend.User) string { return e.invite(a.ID) }, time.Hour, backend.EFORBIDDEN},
		{"expired", func(e *env, a *backend.User) string { return e.invite(a.ID) }, 2 * time.Hour, backend.EFORBIDDEN},
		{"created already expired", func(e *env, a *backend.User) string {
			e.inviteCode("stale", a.ID, e.clock.Now().Add(-time.Millisecond))
			return "stale"
		}, 0, backend.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			admin := e.admin("admin")
			code := tt.code(e, admin)
			e.clock.Advance(tt.advance)
			u := &backend.User{Username: "bob", PasswordHash: "h"}
			err := e.s.CreateUser(e.ctx, u, code)
			wantCode(t, err, tt.want)
			_, lookupErr := e.s.UserByUsername(e.ctx, "bob")
			if tt.want != "" {
				wantCode(t, lookupErr, backend.ENOTFOUND)
				if users, _ := e.s.Users(e.ctx); len(users) != 1 {
					t.Errorf("a refused registration left %d users, want 1", len(users))
				}
				return
			}
			wantNoError(t, lookupErr, "UserByUsername")
			if u.Role != backend.RoleMember {
				t.Errorf("invited user's role = %q, want %q", u.Role, backend.RoleMember)
			}
		})
	}
}

func TestInviteIsSingleUse(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("admin")
	code := e.invite(admin.ID)
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "bob"}, code), "first use")
	err := e.s.CreateUser(e.ctx, &backend.User{Username: "carol"}, code)
	wantCode(t, err, backend.EFORBIDDEN)
}

func TestInviteSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("admin")
	code := e.invite(admin.ID)
	e.reopen()
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "bob"}, code), "CreateUser after reopen")
}

func TestCreateUserTakenUsernameKeepsInvite(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("alice")
	code := e.invite(admin.ID)
	dup := &backend.User{Username: "alice", PasswordHash: "other"}
	wantCode(t, e.s.CreateUser(e.ctx, dup, code), backend.ECONFLICT)
	if dup.ID != "" {
		t.Errorf("a refused user got id %q", dup.ID)
	}
	got, err := e.s.UserByUsername(e.ctx, "alice")
	wantNoError(t, err, "UserByUsername")
	if got.ID != admin.ID || got.PasswordHash != admin.PasswordHash {
		t.Errorf("the taken username now maps to %+v, want the original user %+v", got, admin)
	}
	// The invite was not used up by the refused registration.
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "bob"}, code), "CreateUser with the same invite")
}

// Without a valid invite a registration learns nothing about which usernames exist: a taken
// name and a free one are both refused for the invite (403), never as a conflict (409).
func TestCreateUserChecksTheInviteBeforeTheUsername(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("alice")
	e.inviteCode("stale", admin.ID, e.clock.Now().Add(-time.Minute))
	for _, code := range []string{"", "never-issued", "stale"} {
		for _, name := range []string{"alice", "nobody"} {
			err := e.s.CreateUser(e.ctx, &backend.User{Username: name, PasswordHash: "h"}, code)
			wantCode(t, err, backend.EFORBIDDEN)
		}
	}
	// With a valid invite a taken name is a conflict, and the invite stays usable.
	code := e.invite(admin.ID)
	wantCode(t, e.s.CreateUser(e.ctx, &backend.User{Username: "alice", PasswordHash: "h"}, code), backend.ECONFLICT)
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "bob", PasswordHash: "h"}, code), "CreateUser with the same invite")
}

func TestConcurrentFirstRegistrationsMakeOneAdmin(t *testing.T) {
	e := newEnv(t)
	const n = 16
	errs := make([]error, n)
	users := make([]*backend.User, n)
	var wg sync.WaitGroup
	for i := range n {
		users[i] = &backend.User{Username: fmt.Sprintf("user%d", i)}
		wg.Go(func() { errs[i] = e.s.CreateUser(e.ctx, users[i], "") })
	}
	wg.Wait()
	admins := 0
	for i, err := range errs {
		switch backend.ErrorCode(err) {
		case "":
			admins++
			if users[i].Role != backend.RoleAdmin {
				t.Errorf("the registration that succeeded has role %q", users[i].Role)
			}
		case backend.EFORBIDDEN:
		default:
			t.Errorf("registration %d: %v", i, err)
		}
	}
	if admins != 1 {
		t.Fatalf("%d concurrent first registrations succeeded, want exactly 1", admins)
	}
}

func TestConcurrentUseOfOneInvite(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("admin")
	code := e.invite(admin.ID)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.s.CreateUser(e.ctx, &backend.User{Username: fmt.Sprintf("user%d", i)}, code) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch backend.ErrorCode(err) {
		case "":
			ok++
		case backend.EFORBIDDEN:
		default:
			t.Errorf("registration %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("one invite registered %d users, want exactly 1", ok)
	}
	if users, _ := e.s.Users(e.ctx); len(users) != 2 {
		t.Errorf("%d users, want 2", len(users))
	}
}

func TestUserLookups(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	e.clock.Advance(time.Second)
	bob := e.member("bob")
	carol := e.member("carol")
	created := []*backend.User{alice, bob, carol}

	for _, want := range created {
		byID, err := e.s.User(e.ctx, want.ID)
		wantNoError(t, err, "User")
		byName, err := e.s.UserByUsername(e.ctx, want.Username)
		wantNoError(t, err, "UserByUsername")
		for _, got := range []*backend.User{byID, byName} {
			if *got != *want {
				t.Errorf("lookup of %s = %+v, want %+v (PasswordHash must round-trip)", want.Username, *got, *want)
			}
		}
	}
	if bob.CreatedAt != t0.Add(time.Second).UnixMilli() {
		t.Errorf("bob.CreatedAt = %d, want %d", bob.CreatedAt, t0.Add(time.Second).UnixMilli())
	}

	all, err := e.s.Users(e.ctx)
	wantNoError(t, err, "Users")
	if got, want := userIDs(all), userIDs(created); !slices.Equal(got, want) {
		t.Errorf("Users() ids = %v, want registration order %v", got, want)
	}
	wantStrictlyIncreasing(t, userIDs(all), "Users()")
	for i, u := range all {
		if u.Username != created[i].Username || u.Role != created[i].Role || u.DisplayName != created[i].DisplayName {
			t.Errorf("Users()[%d] = %+v, want %+v", i, *u, *created[i])
		}
	}

	for _, tt := range []struct {
		name string
		get  func() error
	}{
		{"User(unknown)", func() error { _, err := e.s.User(e.ctx, ulid.Make().String()); return err }},
		{"User(\"\")", func() error { _, err := e.s.User(e.ctx, ""); return err }},
		{"UserByUsername(unknown)", func() error { _, err := e.s.UserByUsername(e.ctx, "dave"); return err }},
		{"UserByUsername(prefix)", func() error { _, err := e.s.UserByUsername(e.ctx, "ali"); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.get(), backend.ENOTFOUND) })
	}
}

func TestUsersEmpty(t *testing.T) {
	e := newEnv(t)
	users, err := e.s.Users(e.ctx)
	wantNoError(t, err, "Users")
	if len(users) != 0 {
		t.Fatalf("Users() on a new store = %d users", len(users))
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	sess := backend.Session{UserID: alice.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	wantNoError(t, e.s.CreateSession(e.ctx, "token-a", sess), "CreateSession")
	wantNoError(t, e.s.CreateSession(e.ctx, "token-b", sess), "CreateSession")

	got, err := e.s.Session(e.ctx, "token-a")
	wantNoError(t, err, "Session")
	if got.UserID != alice.ID || !got.CreatedAt.Equal(sess.CreatedAt) || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("Session = %+v, want %+v", *got, sess)
	}
	for _, token := range []string{"unknown", "", "token-", "token-a "} {
		_, err := e.s.Session(e.ctx, token)
		wantCode(t, err, backend.ENOTFOUND)
	}

	wantNoError(t, e.s.DeleteSession(e.ctx, "token-a", backend.SessionSignedOut), "DeleteSession")
	_, err = e.s.Session(e.ctx, "token-a")
	wantCode(t, err, backend.ENOTFOUND)
	if _, err := e.s.Session(e.ctx, "token-b"); err != nil {
		t.Errorf("deleting one session ended another: %v", err)
	}
	wantNoError(t, e.s.DeleteSession(e.ctx, "token-a", backend.SessionSignedOut), "DeleteSession again")
	wantNoError(t, e.s.DeleteSession(e.ctx, "never-existed", backend.SessionSignedOut), "DeleteSession(unknown)")
}

func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		found   bool
	}{
		{"fresh", 0, true},
		{"last millisecond", time.Hour - time.Millisecond, true},
		{"at expiry", time.Hour, false},
		{"long after", 48 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			alice := e.admin("alice")
			wantNoError(t, e.s.CreateSession(e.ctx, "tok", backend.Session{UserID: alice.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}), "CreateSession")
			e.clock.Advance(tt.advance)
			s, err := e.s.Session(e.ctx, "tok")
			s2, u, err2 := e.s.SessionUser(e.ctx, "tok")
			if tt.found {
				wantNoError(t, err, "Session")
				wantNoError(t, err2, "SessionUser")
				if s.UserID != alice.ID || s2.UserID != alice.ID || u.ID != alice.ID || s2.ID != s.ID {
					t.Errorf("Session.UserID = %q, SessionUser = %q, %q; want %q", s.UserID, s2.UserID, u.ID, alice.ID)
				}
				return
			}
			wantCode(t, err, backend.ENOTFOUND)
			wantCode(t, err2, backend.ENOTFOUND)
		})
	}
}

// TestSecretsAreStoredHashed checks the file itself: neither a session token nor an invite code
// is written in the clear, only their SHA-256.
func TestSecretsAreStoredHashed(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	const token = "SESSION-TOKEN-9f3a61c2e4b8d7a0"
	const code = "INVITE-CODE-5b2e8c1d9f7a3e60"
	wantNoError(t, e.s.CreateSession(e.ctx, token, backend.Session{UserID: alice.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}), "CreateSession")
	e.inviteCode(code, alice.ID, t0.Add(time.Hour))
	wantNoError(t, e.s.Close(), "Close")

	raw, err := os.ReadFile(e.path)
	wantNoError(t, err, "read the db file")
	for _, secret := range []string{token, code} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the db file holds %q in the clear", secret)
		}
	}

	db, err := bbolt.Open(e.path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	wantNoError(t, err, "open the file with bbolt")
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for _, c := range []struct{ bucket, secret string }{{"sessions", token}, {"invites", code}} {
			b := tx.Bucket([]byte(c.bucket))
			if b == nil {
				t.Errorf("no %s bucket", c.bucket)
				continue
			}
			sum := sha256.Sum256([]byte(c.secret))
			if b.Get(sum[:]) == nil {
				t.Errorf("%s bucket has no entry under the secret's SHA-256", c.bucket)
			}
			_ = b.ForEach(func(k, v []byte) error {
				if bytes.Contains(k, []byte(c.secret)) || bytes.Contains(v, []byte(c.secret)) {
					t.Errorf("%s bucket holds the secret in the clear", c.bucket)
				}
				return nil
			})
		}
		return nil
	})
	wantNoError(t, err, "View")
}

func TestPruneExpiredSessionsAndInvites(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	now := e.clock.Now()
	for i, ttl := range []time.Duration{-time.Hour, -time.Second, time.Hour} {
		wantNoError(t, e.s.CreateSession(e.ctx, fmt.Sprint("token-", i), backend.Session{UserID: alice.ID, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(ttl)}), "CreateSession")
		e.inviteCode(fmt.Sprint("code-", i), alice.ID, now.Add(ttl))
	}
	n, err := e.s.PruneExpired(e.ctx, now, 1) // one per commit: exercises the batching
	wantNoError(t, err, "PruneExpired")
	if n != 4 {
		t.Fatalf("pruned %d, want 2 sessions and 2 invites", n)
	}
	if _, err := e.s.Session(e.ctx, "token-2"); err != nil {
		t.Fatalf("the live session was pruned: %v", err)
	}
	bob := &backend.User{Username: "bob", PasswordHash: "h"}
	wantNoError(t, e.s.CreateUser(e.ctx, bob, "code-2"), "register with the live invite")
	if n, _ := e.s.PruneExpired(e.ctx, now, 10); n != 0 {
		t.Fatalf("second prune deleted %d", n)
	}
}
