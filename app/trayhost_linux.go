package app

import (
	"fmt"

	"github.com/godbus/dbus/v5"
)

// trayHostAvailable checks for the session bus that StatusNotifierItem needs. Without a watcher on
// that bus systray logs "failed to register" and registers once one appears, which is fine.
func trayHostAvailable() error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return fmt.Errorf("no D-Bus session bus: %w", err)
	}
	_ = conn // shared connection: systray and beeep use it too; never closed here
	return nil
}
