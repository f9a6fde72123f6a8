package app

// trayHostAvailable: Windows always has a notification area.
func trayHostAvailable() error { return nil }

// trayHostPresent: Windows always has a notification area.
func trayHostPresent() bool { return true }
