package teamserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/files"
	"github.com/herald-chat/herald/backend/teamserver/teamservertest"
)

// Opening the data dir removes file bytes no record names (a crash between deleting a message
// and removing its file) and temp uploads.
func TestOpenSweepsOrphanedFiles(t *testing.T) {
	srv := teamservertest.Start(t)
	srv.Stop()
	dir := filepath.Join(srv.DataDir(), "files")
	orphans := []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAV.thumb.png", "upload-42.part"}
	for _, name := range orphans {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("secret bytes"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv.Start()
	for _, name := range orphans {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s survives Open: %v", name, err)
		}
	}
}

// Opening the data dir finishes the uploads a crash left processing: one whose bytes are on
// the disk is processed, one whose bytes are not is recorded failed for its uploader to see.
func TestOpenResumesUnfinishedUploads(t *testing.T) {
	srv := teamservertest.Start(t)
	reg, chat := aliceAndAChat(t, srv)
	srv.Stop()

	path := filepath.Join(srv.DataDir(), "herald.db")
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	here := &backend.File{ChatID: chat, UploaderID: reg.User.ID, Name: "notes.txt", Size: 5}
	gone := &backend.File{ChatID: chat, UploaderID: reg.User.ID, Name: "lost.txt", Size: 5}
	for _, f := range []*backend.File{here, gone} {
		if err := store.CreateFile(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(srv.DataDir(), "files", here.ID), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	srv.Stop() // the processor finishes what it queued before the store closes

	store, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if f, err := store.File(context.Background(), here.ID); err != nil || f.Status != backend.FileReady || f.Preview != "hello" {
		t.Fatalf("the upload whose bytes were on the disk: %+v, %v; want ready", f, err)
	}
	if f, err := store.File(context.Background(), gone.ID); err != nil || f.Status != backend.FileFailed || f.Error != files.InterruptedReason {
		t.Fatalf("the upload whose bytes were lost: %+v, %v; want failed, interrupted", f, err)
	}
}
