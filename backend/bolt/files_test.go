package bolt_test

import (
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Uploaded bytes are counted per user and UTC day in the commit that records the file; the
// count survives a restart and starts afresh the next day.
func TestUploadQuotaIsCountedWithTheFile(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	bob := e.member("bob")
	chat := e.chat("general", alice, bob)
	const quota = 1000
	create := func(u *backend.User, size int64) (*backend.File, error) {
		f := &backend.File{ChatID: chat.ID, UploaderID: u.ID, Name: "f", Size: size}
		return f, e.s.CreateFileWithin(e.ctx, f, quota)
	}
	used := func(u *backend.User) int64 {
		t.Helper()
		n, err := e.s.UploadedOn(e.ctx, u.ID, backend.UploadDay(e.clock.Now()))
		wantNoError(t, err, "UploadedOn")
		return n
	}
	_, err := create(alice, 600)
	wantNoError(t, err, "600 bytes")
	refused, err := create(alice, 401)
	wantCode(t, err, backend.ERATELIMIT)
	if refused.ID != "" || used(alice) != 600 {
		t.Fatalf("a refused file got id %q; alice used %d", refused.ID, used(alice))
	}
	_, err = create(alice, 400)
	wantNoError(t, err, "400 more bytes: exactly the quota")
	_, err = create(bob, 1000)
	wantNoError(t, err, "bob's own quota")
	// CreateFile has no quota but counts all the same.
	wantNoError(t, e.s.CreateFile(e.ctx, &backend.File{ChatID: chat.ID, UploaderID: bob.ID, Name: "g", Size: 5}), "CreateFile")
	if used(bob) != 1005 {
		t.Fatalf("bob used %d, want 1005", used(bob))
	}

	e.reopen()
	if used(alice) != 1000 {
		t.Fatalf("after a restart alice used %d, want 1000", used(alice))
	}
	_, err = create(alice, 1)
	wantCode(t, err, backend.ERATELIMIT)

	yesterday := backend.UploadDay(e.clock.Now())
	e.clock.Set(backend.UploadDayEnds(e.clock.Now()))
	_, err = create(alice, 1000)
	wantNoError(t, err, "a new day")
	if n, _ := e.s.UploadedOn(e.ctx, alice.ID, yesterday); n != 0 {
		t.Fatalf("yesterday's count is kept: %d", n)
	}
}

// A file refused after it was recorded (processing busy) is deleted and its bytes given back;
// a processed file is not deleted this way.
func TestDeleteFileGivesItsBytesBack(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	chat := e.chat("general", alice)
	f := &backend.File{ChatID: chat.ID, UploaderID: alice.ID, Name: "f", Size: 700}
	wantNoError(t, e.s.CreateFileWithin(e.ctx, f, 1000), "CreateFileWithin")
	e.clock.Advance(time.Minute)
	wantNoError(t, e.s.DeleteFile(e.ctx, f.ID), "DeleteFile")
	_, err := e.s.File(e.ctx, f.ID)
	wantCode(t, err, backend.ENOTFOUND)
	if n, _ := e.s.UploadedOn(e.ctx, alice.ID, backend.UploadDay(e.clock.Now())); n != 0 {
		t.Fatalf("after the delete alice used %d bytes", n)
	}
	wantCode(t, e.s.DeleteFile(e.ctx, f.ID), backend.ENOTFOUND)

	done := &backend.File{ChatID: chat.ID, UploaderID: alice.ID, Name: "g", Size: 1}
	wantNoError(t, e.s.CreateFile(e.ctx, done), "CreateFile")
	done.Status = backend.FileReady
	wantNoError(t, e.s.FinishFile(e.ctx, done), "FinishFile")
	wantCode(t, e.s.DeleteFile(e.ctx, done.ID), backend.ECONFLICT)
}

func TestMessageByClientID(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	bob := e.member("bob")
	chat := e.chat("general", alice, bob)
	sent, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: alice.ID, Content: "hi", ClientID: "c1"})
	wantNoError(t, err, "PostMessage")
	got, err := e.s.MessageByClientID(e.ctx, chat.ID, alice.ID, "c1")
	wantNoError(t, err, "MessageByClientID")
	if got.ID != sent.ID || got.Content != "hi" {
		t.Fatalf("got %+v, want %+v", got, sent)
	}
	_, err = e.s.MessageByClientID(e.ctx, chat.ID, bob.ID, "c1") // another author's key
	wantCode(t, err, backend.ENOTFOUND)
}

// UnfinishedFiles lists the files still processing, oldest first, up to a limit; a restart
// keeps them (a crash between the record and the processing).
func TestUnfinishedFilesAreTheOnesStillProcessing(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	chat := e.chat("general", alice)
	var ids []string
	for i := range 4 {
		f := &backend.File{ChatID: chat.ID, UploaderID: alice.ID, Name: "f", Size: 1}
		wantNoError(t, e.s.CreateFile(e.ctx, f), "CreateFile")
		e.clock.Advance(time.Millisecond)
		if i == 1 {
			f.Status = backend.FileReady
			wantNoError(t, e.s.FinishFile(e.ctx, f), "FinishFile")
			continue
		}
		ids = append(ids, f.ID)
	}
	e.reopen()
	got, err := e.s.UnfinishedFiles(e.ctx, 10)
	wantNoError(t, err, "UnfinishedFiles")
	var gotIDs []string
	for _, f := range got {
		gotIDs = append(gotIDs, f.ID)
		if f.Status != backend.FileProcessing || f.ChatID != chat.ID {
			t.Fatalf("an unfinished file: %+v", f)
		}
	}
	if !slices.Equal(gotIDs, ids) {
		t.Fatalf("unfinished files %v, want %v (the three not finished, oldest first)", gotIDs, ids)
	}
	if got, _ := e.s.UnfinishedFiles(e.ctx, 2); len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Fatalf("UnfinishedFiles with limit 2: %d files", len(got))
	}
}
