package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/godbus/dbus/v5"
)

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
	_ = conn // shared connection: systray and beeep use it too; never closed here
	return nil
}

// trayHostPresent reports whether a tray host (a StatusNotifierWatcher: a panel that shows tray
// icons) is on the session bus now. Without one, systray registers when one appears; until then
// the icon is nowhere to be seen, so the window must not hide into it.
func trayHostPresent() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
