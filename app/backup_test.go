package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend/backup"
	"github.com/herald-chat/herald/backend/teamserver"
)

// Team settings' "Back up now" in host mode: POST /desktop/backup writes a backup of the hosted
// team into <data-dir>/server/backups, and the state shows it as the last backup.
func TestHostedTeamBacksUpNow(t *testing.T) {
	dir := t.TempDir()
	_, front, _ := runApp(t, Options{DataDir: dir})
	var apiErr struct {
		Error struct{ Code, Message string }
	}
	if resp := call(t, front.URL, "POST", "/desktop/backup", "", map[string]any{}, &apiErr); resp.StatusCode != 409 || apiErr.Error.Code != "conflict" {
		t.Fatalf("backup before a team is hosted: %d %+v", resp.StatusCode, apiErr)
	}
	call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme",
		"username": "owner", "displayName": "Olivia", "password": "correct horse 1"}, nil)
	waitFor(t, "the host app to go live", func() bool { return desktopStateOf(t, front.URL).Connection == StateLive })
	if s := desktopStateOf(t, front.URL); s.LastBackup != nil {
		t.Fatalf("a last backup before any: %+v", s.LastBackup)
	}

	var b teamserver.BackupFile
	if resp := call(t, front.URL, "POST", "/desktop/backup", "", map[string]any{}, &b); resp.StatusCode != 200 {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	if filepath.Dir(b.Path) != filepath.Join(dir, "server", teamserver.BackupsDir) || b.Size == 0 || b.Manifest == nil ||
		b.Manifest.Counts["users"] != 1 || !strings.HasSuffix(b.Path, ".tar.gz") {
		t.Fatalf("backup answer %+v", b)
	}
	s := desktopStateOf(t, front.URL)
	if s.LastBackup == nil || s.LastBackup.Path != b.Path || s.LastBackup.Size != b.Size || !s.LastBackup.CreatedAt.Equal(b.CreatedAt) {
		t.Fatalf("state's last backup %+v, want %+v", s.LastBackup, b)
	}
	// It is a whole backup of the hosted team, certificate included.
	m, err := teamserver.Restore(context.Background(), b.Path, filepath.Join(t.TempDir(), "restored"), backup.Limits{})
	if err != nil {
		t.Fatalf("restore the desktop's backup: %v", err)
	}
	var names []string
	for _, e := range m.Entries {
		names = append(names, e.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "tls-key.pem") {
		t.Errorf("the backup lacks the hosted server's certificate: %v", names)
	}
}
