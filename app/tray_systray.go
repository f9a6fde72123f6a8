//go:build linux || windows

package app

import (
	"log/slog"
	"runtime"
	"sync"

	"fyne.io/systray"
)

// systrayTray is the tray item on Linux (StatusNotifierItem over D-Bus) and Windows.
type systrayTray struct {
	mu    sync.Mutex
	ready bool
	icon  []byte
	tip   string
	end   func()
}

// startTray registers the tray item beside the Wails loop. It returns nil (and says why) where
// there is no tray: on Linux without a session bus — systray would dereference a nil connection
// and take the process down — and the caller runs on without one.
func startTray(menu TrayMenu, log *slog.Logger) (Tray, func(), error) {
	if err := trayHostAvailable(); err != nil {
		return nil, nil, err
	}
	t := &systrayTray{}
	start, end := systray.RunWithExternalLoop(func() { t.onReady(menu, log) }, func() {})
	t.end = end
	// Before start: systray reads the handler while it registers (setting it later races).
	systray.SetOnTapped(menu.Open)
	start()
	return t, end, nil
}

func (t *systrayTray) onReady(menu TrayMenu, log *slog.Logger) {
	systray.SetTitle("Herald")
	open := systray.AddMenuItem("Open Herald", "Show the Herald window")
	dnd := systray.AddMenuItem("Do Not Disturb", "Silence notifications on every device")
	hour := dnd.AddSubMenuItem("For 1 hour", "")
	tomorrow := dnd.AddSubMenuItem("Until tomorrow", "Until 08:00 tomorrow")
	off := dnd.AddSubMenuItem("Off", "Turn do not disturb off")
	systray.AddSeparator()
	quit := systray.AddMenuItem("Quit", "Quit Herald")

	t.mu.Lock()
	t.ready = true
	icon, tip := t.icon, t.tip
	t.mu.Unlock()
	if icon != nil {
		t.apply(icon, tip)
	}
	log.Info("tray ready")
	go func() {
		for {
			select {
			case <-open.ClickedCh:
				menu.Open()
			case <-hour.ClickedCh:
				menu.DoNotDisturb("1h")
			case <-tomorrow.ClickedCh:
				menu.DoNotDisturb("tomorrow")
			case <-off.ClickedCh:
				menu.DoNotDisturb("off")
			case <-quit.ClickedCh:
				menu.Quit()
				return
			}
		}
	}()
}

func (t *systrayTray) Show(icon []byte, tooltip string) {
	t.mu.Lock()
	t.icon, t.tip = icon, tooltip
	ready := t.ready
	t.mu.Unlock()
	if ready {
		t.apply(icon, tooltip)
	}
}

func (t *systrayTray) apply(icon []byte, tooltip string) {
	if runtime.GOOS == "windows" {
		icon = pngToICO(icon)
	}
	systray.SetIcon(icon)
	systray.SetTooltip(tooltip)
}
