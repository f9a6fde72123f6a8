package app

import (
	"errors"
	"log/slog"
)

// startTray: on macOS a tray started from Wails' OnStartup crashes (AppKit main-thread rules), so
// the app runs without one there until it can own the main loop.
func startTray(TrayMenu, *slog.Logger) (Tray, func(), error) {
	return nil, nil, errors.New("the tray is not available on macOS yet")
}

// trayHostPresent: there is no tray on macOS yet (startTray says so).
func trayHostPresent() bool { return false }
