package app

// trayHostAvailable: Windows always has a notification area.
func trayHostAvailable() error { return nil }

// trayHostMissing: Windows always has a notification area.
const trayHostMissing = false
