package teamserver_test

import (
	"os"
	"path/filepath"
	"testing"

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
