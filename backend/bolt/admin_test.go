package bolt_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// The audit log keeps AuditRetention: older entries go as new ones are written. Pages run
// newest first and end.
func TestAuditLogIsBoundedAndPaged(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		wantNoError(t, e.s.RecordAudit(e.ctx, backend.AuditEntry{ActorID: "a", Action: fmt.Sprint("old ", i)}), "RecordAudit")
	}
	e.clock.Advance(backend.AuditRetention + time.Hour)
	for i := range 3 {
		wantNoError(t, e.s.RecordAudit(e.ctx, backend.AuditEntry{ActorID: "a", Action: fmt.Sprint("new ", i)}), "RecordAudit")
	}
	var got []string
	before := ""
	for {
		page, more, err := e.s.Audit(e.ctx, before, 2)
		wantNoError(t, err, "Audit")
		for _, a := range page {
			got = append(got, a.Action)
			before = a.ID
		}
		if !more {
			break
		}
	}
	if want := "[new 2 new 1 new 0]"; fmt.Sprint(got) != want {
		t.Fatalf("audit log %v, want %s", got, want)
	}
	e.reopen()
	if page, _, err := e.s.Audit(e.ctx, "", 10); err != nil || len(page) != 3 {
		t.Fatalf("after reopening: %d entries, %v", len(page), err)
	}
}

// An invite with MaxUses counts its uses across restarts; one written before multi-use invites
// (MaxUses 0) works once.
func TestInviteUsesAreCounted(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("admin")
	inv := backend.Invite{Code: "three", CreatedBy: admin.ID, CreatedAt: e.clock.Now().UnixMilli(), ExpiresAt: e.clock.Now().Add(time.Hour).UnixMilli(), MaxUses: 3}
	wantNoError(t, e.s.CreateInvite(e.ctx, inv), "CreateInvite")
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "u1"}, "three"), "use 1")
	e.reopen()
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "u2"}, "three"), "use 2")
	list, err := e.s.Invites(e.ctx)
	wantNoError(t, err, "Invites")
	if len(list) != 1 || list[0].Uses != 2 || list[0].MaxUses != 3 || list[0].Code != "" || list[0].Hint != "thre" {
		t.Fatalf("invites %+v", list)
	}
	wantCode(t, e.s.CreateUser(e.ctx, &backend.User{Username: "u2"}, "three"), backend.ECONFLICT) // a taken name uses nothing
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "u3"}, "three"), "use 3")
	wantCode(t, e.s.CreateUser(e.ctx, &backend.User{Username: "u4"}, "three"), backend.EFORBIDDEN)
	if list, _ := e.s.Invites(e.ctx); len(list) != 0 {
		t.Fatalf("a used-up invite is listed: %+v", list)
	}
}

// SetDeactivated and SetRole apply the domain's rules inside the transaction, end the sessions
// of a deactivated account, and emit USER_UPDATED only on a change.
func TestDeactivateAndRoleRules(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("admin")
	bob := e.member("bob")
	now := e.clock.Now()
	wantNoError(t, e.s.CreateSession(e.ctx, "bob-token", backend.Session{UserID: bob.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}), "CreateSession")
	_, err := e.s.SetDeactivated(e.ctx, bob.ID, admin.ID, true)
	wantCode(t, err, backend.EFORBIDDEN)
	_, err = e.s.SetDeactivated(e.ctx, admin.ID, admin.ID, true)
	wantCode(t, err, backend.ECONFLICT)
	n := e.pub.Len()
	u, err := e.s.SetDeactivated(e.ctx, admin.ID, bob.ID, true)
	wantNoError(t, err, "deactivate")
	if !u.Deactivated || u.PasswordHash != "" {
		t.Fatalf("deactivated user %+v", u)
	}
	if _, err := e.s.Session(e.ctx, "bob-token"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("bob's session after deactivation: %v", err)
	}
	evs := e.pub.Events()[n:]
	var types []backend.EventType
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	if fmt.Sprint(types) != "[USER_UPDATED SESSION_ENDED]" || evs[1].Reason != backend.SessionDeactivated {
		t.Fatalf("events %v", types)
	}
	n = e.pub.Len()
	_, err = e.s.SetDeactivated(e.ctx, admin.ID, bob.ID, true)
	wantNoError(t, err, "deactivate again")
	if e.pub.Len() != n {
		t.Fatal("deactivating again emitted events")
	}
	_, err = e.s.SetRole(e.ctx, admin.ID, admin.ID, backend.RoleMember)
	wantCode(t, err, backend.ECONFLICT)

	// A deactivated admin's invites stop working.
	carol := e.member("carol")
	_, err = e.s.SetRole(e.ctx, admin.ID, carol.ID, backend.RoleAdmin)
	wantNoError(t, err, "promote carol")
	code := e.invite(carol.ID)
	_, err = e.s.SetDeactivated(e.ctx, admin.ID, carol.ID, true)
	wantNoError(t, err, "deactivate carol")
	wantCode(t, e.s.CreateUser(e.ctx, &backend.User{Username: "dan"}, code), backend.EFORBIDDEN)
	_, err = e.s.SetRole(e.ctx, admin.ID, "01JDQ7X3K9V2M4T8E6R5N0PZ1A", backend.RoleMember)
	wantCode(t, err, backend.ENOTFOUND)
}

// The audit log keeps the newest MaxAuditEntries entries. The writes run concurrently so that
// group commit shares the fsyncs.
func TestAuditLogKeepsTheNewestEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 entries")
	}
	e := newEnv(t)
	const extra = 25
	total := backend.MaxAuditEntries + extra
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := e.s.RecordAudit(e.ctx, backend.AuditEntry{ActorID: "a", Action: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	n := 0
	before := ""
	var newest string
	for {
		page, more, err := e.s.Audit(e.ctx, before, backend.MaxAdminPageLimit)
		wantNoError(t, err, "Audit")
		if newest == "" && len(page) > 0 {
			newest = page[0].ID
		}
		n += len(page)
		if len(page) > 0 {
			before = page[len(page)-1].ID
		}
		if !more {
			break
		}
	}
	if n != backend.MaxAuditEntries {
		t.Fatalf("%d entries kept of %d written, want %d", n, total, backend.MaxAuditEntries)
	}
	// One more write drops exactly one, the oldest.
	wantNoError(t, e.s.RecordAudit(e.ctx, backend.AuditEntry{ActorID: "a", Action: "last"}), "RecordAudit")
	page, _, err := e.s.Audit(e.ctx, "", 1)
	wantNoError(t, err, "Audit")
	if page[0].Action != "last" || page[0].ID <= newest {
		t.Fatalf("newest entry %+v", page[0])
	}
}

// A new reset link replaces the user's earlier one; a used one is gone; expired ones are pruned.
func TestPasswordResets(t *testing.T) {
	e := newEnv(t)
	e.admin("admin")
	bob := e.member("bob")
	carol := e.member("carol")
	exp := e.clock.Now().Add(backend.PasswordResetTTL)
	wantNoError(t, e.s.CreatePasswordReset(e.ctx, "first", bob.ID, exp), "first reset")
	wantNoError(t, e.s.CreatePasswordReset(e.ctx, "carols", carol.ID, exp), "carol's reset")
	wantNoError(t, e.s.CreatePasswordReset(e.ctx, "second", bob.ID, exp), "second reset")
	_, err := e.s.PasswordReset(e.ctx, "first")
	wantCode(t, err, backend.ENOTFOUND)
	id, err := e.s.UsePasswordReset(e.ctx, "second", "new-hash")
	if err != nil || id != bob.ID {
		t.Fatalf("UsePasswordReset = %q, %v", id, err)
	}
	if u, _ := e.s.User(e.ctx, bob.ID); u.PasswordHash != "new-hash" {
		t.Fatalf("password hash %q", u.PasswordHash)
	}
	_, err = e.s.UsePasswordReset(e.ctx, "second", "again")
	wantCode(t, err, backend.ENOTFOUND)
	e.clock.Advance(backend.PasswordResetTTL)
	_, err = e.s.PasswordReset(e.ctx, "carols")
	wantCode(t, err, backend.ENOTFOUND)
	n, err := e.s.PruneExpired(e.ctx, e.clock.Now(), 100)
	if err != nil || n < 1 {
		t.Fatalf("PruneExpired = %d, %v", n, err)
	}
}

// The admin list carries when an account was last seen: when it last went offline.
func TestListUsersCarriesLastSeen(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("admin")
	bob := e.member("bob")
	_, err := e.s.SetStatus(e.ctx, bob.ID, backend.StatusOnline)
	wantNoError(t, err, "online")
	e.clock.Advance(time.Minute)
	seen := e.clock.Now().UnixMilli()
	_, err = e.s.SetStatus(e.ctx, bob.ID, backend.StatusOffline)
	wantNoError(t, err, "offline")
	list, more, err := e.s.ListUsers(e.ctx, backend.UserFilter{Limit: 10})
	wantNoError(t, err, "ListUsers")
	if more || len(list) != 2 || list[0].ID != admin.ID || list[0].LastSeenAt != 0 || list[1].LastSeenAt != seen {
		t.Fatalf("accounts %+v", list)
	}
}
