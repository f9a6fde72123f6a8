package bolt_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

func strp(s string) *string { return &s }

// usersUpdated are the USER_UPDATED events published since from (an index into e.pub's events).
func (e *env) usersUpdated(from int) []*backend.Event {
	var out []*backend.Event
	for _, ev := range e.pub.Events()[from:] {
		if ev.Type == backend.EventUserUpdated {
			out = append(out, ev)
		}
	}
	return out
}

func TestUpdateProfileEmitsToCoMembersOnce(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol := e.admin("alice"), e.member("bob"), e.member("carol")
	e.chat("general", alice, bob)
	before := e.lastEventID()
	from := e.pub.Len()
	u, err := e.s.UpdateProfile(e.ctx, alice.ID, backend.ProfilePatch{DisplayName: strp("Alice L."), StatusText: strp("Hi")})
	wantNoError(t, err, "UpdateProfile")
	if u.DisplayName != "Alice L." || u.StatusText != "Hi" || u.PasswordHash != "hash-of-alice" {
		t.Fatalf("updated %+v", u)
	}
	evs := e.usersUpdated(from)
	if len(evs) != 1 || evs[0].ID == "" || !evs[0].Personal || evs[0].User.PasswordHash != "" || evs[0].User.DisplayName != "Alice L." {
		t.Fatalf("events %+v", evs)
	}
	if got := evs[0].Recipients; !slices.Contains(got, alice.ID) || !slices.Contains(got, bob.ID) || slices.Contains(got, carol.ID) {
		t.Fatalf("recipients %v", got)
	}
	if strings.Contains(string(evs[0].Data()), "hash-of") {
		t.Fatalf("the event carries the password hash: %s", evs[0].Data())
	}
	// Logged with its recipients: a resume finds it.
	if logged := e.eventsAfter(before); !slices.ContainsFunc(logged, func(ev *backend.Event) bool {
		return ev.ID == evs[0].ID && slices.Contains(ev.Recipients, bob.ID) && !slices.Contains(ev.Recipients, carol.ID)
	}) {
		t.Fatal("USER_UPDATED is not in the log with its recipients")
	}
	// The same values again change nothing and emit nothing.
	from = e.pub.Len()
	_, err = e.s.UpdateProfile(e.ctx, alice.ID, backend.ProfilePatch{DisplayName: strp("Alice L.")})
	wantNoError(t, err, "UpdateProfile unchanged")
	if n := len(e.usersUpdated(from)); n != 0 {
		t.Fatalf("an unchanged profile emitted %d events", n)
	}
	if got, _ := e.s.User(e.ctx, alice.ID); got.PasswordHash != "hash-of-alice" {
		t.Fatal("the profile update lost the password hash")
	}
	_, err = e.s.UpdateProfile(e.ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", backend.ProfilePatch{StatusText: strp("x")})
	wantCode(t, err, backend.ENOTFOUND)
}

func TestProfileOfABotIsForbidden(t *testing.T) {
	e := newEnv(t)
	e.admin("alice")
	bot := &backend.User{Username: "deploy", DisplayName: "Deploy", Avatar: "🤖"}
	wantNoError(t, e.s.CreateBot(e.ctx, bot), "CreateBot")
	_, err := e.s.UpdateProfile(e.ctx, bot.ID, backend.ProfilePatch{DisplayName: strp("x")})
	wantCode(t, err, backend.EFORBIDDEN)
	_, err = e.s.SetAvatar(e.ctx, bot.ID, [][]byte{{1}, {2}})
	wantCode(t, err, backend.EFORBIDDEN)
}

func TestAvatarVersionsGrowAndDeleteForgets(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	_, _, err := e.s.Avatar(e.ctx, alice.ID, 64)
	wantCode(t, err, backend.ENOTFOUND) // a file that never held an avatar has no bucket for them
	u1, err := e.s.SetAvatar(e.ctx, alice.ID, [][]byte{[]byte("small-1"), []byte("big-1")})
	wantNoError(t, err, "SetAvatar")
	u2, err := e.s.SetAvatar(e.ctx, alice.ID, [][]byte{[]byte("small-2"), []byte("big-2")}) // the same millisecond
	wantNoError(t, err, "SetAvatar again")
	if u2.AvatarVersion <= u1.AvatarVersion || u1.AvatarURL == u2.AvatarURL || u2.AvatarURL != backend.AvatarURL(alice.ID, u2.AvatarVersion) {
		t.Fatalf("versions %d then %d, URLs %q %q", u1.AvatarVersion, u2.AvatarVersion, u1.AvatarURL, u2.AvatarURL)
	}
	for size, want := range map[int]string{64: "small-2", 256: "big-2"} {
		img, v, err := e.s.Avatar(e.ctx, alice.ID, size)
		wantNoError(t, err, "Avatar")
		if string(img) != want || v != u2.AvatarVersion {
			t.Fatalf("size %d: %q v%d", size, img, v)
		}
	}
	_, _, err = e.s.Avatar(e.ctx, alice.ID, 100)
	wantCode(t, err, backend.EINVALID)
	e.reopen()
	if img, _, err := e.s.Avatar(e.ctx, alice.ID, 64); err != nil || string(img) != "small-2" {
		t.Fatalf("after reopen: %q %v", img, err)
	}
	from := e.pub.Len()
	u3, err := e.s.DeleteAvatar(e.ctx, alice.ID)
	wantNoError(t, err, "DeleteAvatar")
	if u3.AvatarURL != "" || len(e.usersUpdated(from)) != 1 {
		t.Fatalf("after delete %+v", u3)
	}
	_, _, err = e.s.Avatar(e.ctx, alice.ID, 64)
	wantCode(t, err, backend.ENOTFOUND)
	from = e.pub.Len()
	_, err = e.s.DeleteAvatar(e.ctx, alice.ID)
	wantNoError(t, err, "DeleteAvatar again")
	if len(e.usersUpdated(from)) != 0 {
		t.Fatal("deleting no avatar emitted USER_UPDATED")
	}
	u4, err := e.s.SetAvatar(e.ctx, alice.ID, [][]byte{{1}, {2}})
	wantNoError(t, err, "SetAvatar after delete")
	if u4.AvatarVersion <= u2.AvatarVersion {
		t.Fatalf("a version after delete went back: %d ≤ %d", u4.AvatarVersion, u2.AvatarVersion)
	}
}

func TestSessionDetailsAndEndByID(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.admin("alice"), e.member("bob")
	now := e.clock.Now()
	sess := backend.Session{UserID: bob.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), Device: "Chrome on Linux", IP: "192.0.2.1"}
	wantNoError(t, e.s.CreateSession(e.ctx, "bob-token", sess), "CreateSession")
	wantNoError(t, e.s.CreateSession(e.ctx, "alice-token", backend.Session{UserID: alice.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}), "CreateSession")
	got, err := e.s.Session(e.ctx, "bob-token")
	wantNoError(t, err, "Session")
	if got.Device != "Chrome on Linux" || got.IP != "192.0.2.1" || !got.LastSeenAt.Equal(now.Truncate(time.Millisecond)) {
		t.Fatalf("session %+v", got)
	}
	commits := e.s.Commits()
	wantNoError(t, e.s.SeeSession(e.ctx, "bob-token", now.Add(59*time.Second), "192.0.2.9"), "SeeSession")
	if e.s.Commits() != commits {
		t.Fatal("SeeSession within a minute wrote")
	}
	wantNoError(t, e.s.SeeSession(e.ctx, "bob-token", now.Add(time.Minute), "192.0.2.9"), "SeeSession")
	if got, _ := e.s.Session(e.ctx, "bob-token"); got.IP != "192.0.2.9" || !got.LastSeenAt.Equal(now.Add(time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("after a minute %+v", got)
	}
	wantNoError(t, e.s.SeeSession(e.ctx, "no-such-token", now, ""), "SeeSession unknown")

	// Another user's session id is not found, as an unknown one.
	wantCode(t, e.s.EndSessionByID(e.ctx, alice.ID, got.ID, backend.SessionRevoked), backend.ENOTFOUND)
	wantCode(t, e.s.EndSessionByID(e.ctx, bob.ID, strings.Repeat("0", 32), backend.SessionRevoked), backend.ENOTFOUND)
	from := e.pub.Len()
	wantNoError(t, e.s.EndSessionByID(e.ctx, bob.ID, got.ID, backend.SessionRevoked), "EndSessionByID")
	_, err = e.s.Session(e.ctx, "bob-token")
	wantCode(t, err, backend.ENOTFOUND)
	evs := e.pub.Events()[from:]
	if len(evs) != 1 || evs[0].Type != backend.EventSessionEnded || evs[0].Reason != backend.SessionRevoked || !slices.Equal(evs[0].Sessions, []string{got.ID}) {
		t.Fatalf("events %+v", evs)
	}
	if _, err := e.s.Session(e.ctx, "alice-token"); err != nil {
		t.Fatalf("alice's session: %v", err)
	}
}

func TestExpireStatusesClearsAndAnnounces(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.admin("alice"), e.member("bob")
	e.chat("general", alice, bob)
	soon := e.clock.Now().Add(time.Minute).UnixMilli()
	later := e.clock.Now().Add(time.Hour).UnixMilli()
	_, err := e.s.UpdateProfile(e.ctx, alice.ID, backend.ProfilePatch{StatusText: strp("Lunch"), StatusExpiresAt: &soon})
	wantNoError(t, err, "UpdateProfile alice")
	_, err = e.s.UpdateProfile(e.ctx, bob.ID, backend.ProfilePatch{StatusText: strp("Away"), StatusExpiresAt: &later})
	wantNoError(t, err, "UpdateProfile bob")

	commits := e.s.Commits()
	n, err := e.s.ExpireStatuses(e.ctx, e.clock.Now())
	wantNoError(t, err, "ExpireStatuses")
	if n != 0 || e.s.Commits() != commits {
		t.Fatalf("nothing due: cleared %d, %d commits", n, e.s.Commits()-commits)
	}
	e.clock.Advance(time.Minute)
	from := e.pub.Len()
	n, err = e.s.ExpireStatuses(e.ctx, e.clock.Now())
	wantNoError(t, err, "ExpireStatuses")
	evs := e.usersUpdated(from)
	if n != 1 || len(evs) != 1 || evs[0].User.ID != alice.ID || evs[0].User.StatusText != "" || !slices.Contains(evs[0].Recipients, bob.ID) {
		t.Fatalf("cleared %d, events %+v", n, evs)
	}
	if u, _ := e.s.User(e.ctx, bob.ID); u.StatusText != "Away" {
		t.Fatalf("bob's status that has not expired: %+v", u)
	}
	if n, _ := e.s.ExpireStatuses(e.ctx, e.clock.Now()); n != 0 {
		t.Fatalf("a second sweep cleared %d", n)
	}
}

// A deleted or replaced avatar leaves no copy of its bytes in the file, free pages included.
func TestAvatarBytesLeaveTheFile(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	first := strings.Repeat("first-picture-", 100)
	_, err := e.s.SetAvatar(e.ctx, alice.ID, [][]byte{[]byte("small-" + first), []byte("big-" + first)})
	wantNoError(t, err, "SetAvatar")
	if !fileHolds(t, e.path, first) {
		t.Fatal("the stored avatar is not in the file")
	}
	second := strings.Repeat("second-picture-", 100)
	_, err = e.s.SetAvatar(e.ctx, alice.ID, [][]byte{[]byte("small-" + second), []byte("big-" + second)})
	wantNoError(t, err, "SetAvatar again")
	if fileHolds(t, e.path, first) {
		t.Fatal("the replaced avatar's bytes are still in the file")
	}
	_, err = e.s.DeleteAvatar(e.ctx, alice.ID)
	wantNoError(t, err, "DeleteAvatar")
	if fileHolds(t, e.path, second) {
		t.Fatal("the deleted avatar's bytes are still in the file")
	}
}

// A replaced team icon, or one given up for an outside URL, leaves no copy in the file; the
// version only grows.
func TestTeamIconBytesLeaveTheFile(t *testing.T) {
	e := newEnv(t)
	e.admin("alice")
	first := strings.Repeat("first-icon-", 100)
	t1, err := e.s.SetTeamIcon(e.ctx, [][]byte{[]byte("small-" + first), []byte("big-" + first)})
	wantNoError(t, err, "SetTeamIcon")
	if !t1.HasUploadedIcon() || !fileHolds(t, e.path, first) {
		t.Fatalf("after the upload: %+v, in the file %v", t1, fileHolds(t, e.path, first))
	}
	second := strings.Repeat("second-icon-", 100)
	t2, err := e.s.SetTeamIcon(e.ctx, [][]byte{[]byte("small-" + second), []byte("big-" + second)})
	wantNoError(t, err, "SetTeamIcon again")
	if t2.IconVersion <= t1.IconVersion || fileHolds(t, e.path, first) {
		t.Fatalf("versions %d then %d; the replaced icon in the file: %v", t1.IconVersion, t2.IconVersion, fileHolds(t, e.path, first))
	}
	if img, v, err := e.s.TeamIcon(e.ctx, 64); err != nil || string(img) != "small-"+second || v != t2.IconVersion {
		t.Fatalf("TeamIcon: %q v%d %v", img, v, err)
	}
	t2.IconURL = "https://example.com/icon.png"
	wantNoError(t, e.s.SetTeam(e.ctx, t2), "SetTeam")
	if fileHolds(t, e.path, second) {
		t.Fatal("the icon given up for a URL is still in the file")
	}
	_, _, err = e.s.TeamIcon(e.ctx, 64)
	wantCode(t, err, backend.ENOTFOUND)
}
