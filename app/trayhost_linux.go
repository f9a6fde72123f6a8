package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/godbus/dbus/v5"
)

// trayHostMissing is set when the session bus has no tray host (StatusNotifierWatcher) at start.
var trayHostMissing bool

// trayHostAvailable checks for the session bus that StatusNotifierItem needs. Without a watcher on
// that bus systray logs "failed to register" and registers once one appears, which is fine.
func trayHostAvailable() error {
	// Without an address godbus would autolaunch a bus daemon that outlives the app.
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return fmt.Errorf("no D-Bus session bus: %w", err)
	}
	// Without a StatusNotifierWatcher (no panel that shows tray icons) systray registers once one
	// appears; the app runs on meanwhile, and says so once.
	var hasOwner bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&hasOwner)
	if err == nil && !hasOwner {
		trayHostMissing = true
	}
	return nil // shared connection: systray and beeep use it too; never closed here
}
