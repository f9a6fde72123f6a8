package app

import (
	"os"
	"path/filepath"

	"github.com/gen2brain/beeep"
)

// beeepNotifier raises native notifications with the person's avatar or the app icon: D-Bus (or notify-send) on Linux,
// toast notifications on Windows, the notification centre on macOS.
type beeepNotifier struct {
	iconPath string // a PNG file the daemon can read; "" for none
}

// newNativeNotifier writes the app icon to dir (daemons want a file path) and names the app.
func newNativeNotifier(dir string, icon []byte) *beeepNotifier {
	beeep.AppName = "Herald"
	n := &beeepNotifier{}
	path := filepath.Join(dir, "herald-icon.png")
	if err := os.WriteFile(path, icon, 0o600); err == nil {
		n.iconPath = path
	}
	return n
}

// Notify shows note with its Icon, else the app icon.
func (n *beeepNotifier) Notify(note Note) error {
	var icon any = ""
	switch {
	case note.Icon != "":
		icon = note.Icon
	case n.iconPath != "":
		icon = n.iconPath
	}
	return beeep.Notify(note.Title, note.Body, icon)
}
