// The window, the tray and the signals: what the user sees of the app outside the page.

package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/herald-chat/herald/backend"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// wailsWindow is the Wails window of the app.
type wailsWindow struct{ ctx context.Context }

func (w wailsWindow) SetTitle(title string) { wruntime.WindowSetTitle(w.ctx, title) }
func (w wailsWindow) Show() {
	wruntime.WindowUnminimise(w.ctx)
	wruntime.WindowShow(w.ctx)
}
func (w wailsWindow) Hide() { wruntime.WindowHide(w.ctx) }
func (w wailsWindow) Quit() { wruntime.Quit(w.ctx) }

func (a *App) setState(s ConnState) {
	changed := false
	a.updateView(func(v *TrayView) {
		changed = v.State != s
		v.State = s
	})
	if changed {
		a.out.printf("state %s", s)
	}
}

// updateView changes the tray view and shows it in the tray and the window title.
func (a *App) updateView(change func(*TrayView)) {
	// Shown in the order computed: two updates racing must not leave the older one on screen.
	a.showMu.Lock()
	defer a.showMu.Unlock()
	a.mu.Lock()
	before := a.view
	change(&a.view)
	v := a.view
	tray := a.tray
	a.mu.Unlock()
	if tray != nil {
		tray.Show(v.Icon(), v.Tooltip())
	}
	if a.window != nil {
		a.window.SetTitle(v.WindowTitle())
	}
	if v != before || before.State == "" {
		a.out.printf("tray %s", v.Tooltip())
	}
}

func (a *App) startTray() {
	menu := TrayMenu{
		Open:         a.showWindow,
		DoNotDisturb: a.setDoNotDisturb,
		Quit:         a.quit,
	}
	tray, end, err := a.opts.StartTray(menu, a.log)
	if err != nil {
		a.log.Warn("running without a tray icon", "err", err)
		a.out.printf("no tray: %v", err)
		return
	}
	a.mu.Lock()
	a.tray, a.trayEnd = tray, end
	a.mu.Unlock()
	if a.osTray && !trayHostPresent() {
		a.log.Warn("no tray host (StatusNotifierWatcher) yet: the tray icon appears when one starts")
		a.out.printf("no tray host yet")
	}
}

// quitOnSignal quits on SIGINT or SIGTERM. Wails also handles them, by closing the window — which
// BeforeClose would turn into hiding it to the tray; marking the app as quitting first (or quitting
// again after the hide) makes a signal end the app. Both paths ask BeforeClose; it lets only the
// first close through (see closing).
func (a *App) quitOnSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	select {
	case <-sigs:
		a.quit()
	case <-a.ctx.Done():
	}
}

func (a *App) showWindow() {
	if a.window != nil {
		a.window.Show()
	}
}

func (a *App) quit() {
	a.mu.Lock()
	a.quitting = true
	a.mu.Unlock()
	if a.window != nil {
		a.window.Quit()
	}
}

// setDoNotDisturb sets the server-side do-not-disturb preference from the tray: "1h", "tomorrow"
// (08:00 local time) or "off".
func (a *App) setDoNotDisturb(preset string) {
	c := a.apiClient()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 20*time.Second)
	defer cancel()
	p, err := c.Preferences(ctx)
	if err != nil || p == nil {
		a.log.Error("do not disturb", "err", err)
		return
	}
	p.DoNotDisturb = DoNotDisturbPreset(preset, time.Now())
	if _, err := c.PutPreferences(ctx, *p); err != nil {
		a.log.Error("do not disturb", "err", err)
	}
}

// DoNotDisturbPreset is the do-not-disturb setting for a tray preset at now: "1h" → an hour from
// now, "tomorrow" → 08:00 local time on the next day, anything else → off (nil).
func DoNotDisturbPreset(preset string, now time.Time) *backend.DoNotDisturb {
	var until time.Time
	switch preset {
	case "1h":
		until = now.Add(time.Hour)
	case "tomorrow":
		y, m, d := now.Date()
		until = time.Date(y, m, d+1, 8, 0, 0, 0, now.Location())
	default:
		return nil
	}
	until = until.UTC().Truncate(time.Second)
	return &backend.DoNotDisturb{Until: &until}
}

// BeforeClose is Wails' OnBeforeClose: closing the window hides it to the tray, unless the user
// turned that off, there is no tray, or the app is quitting. Once it has let one close through it
// prevents every later one: Wails ends GTK's main loop from a goroutine for each close it is let
// through, and a second gtk_main_quit racing the main thread's teardown crashes the process (a
// signal reaches both Wails' handler and quitOnSignal).
func (a *App) BeforeClose(ctx context.Context) (prevent bool) {
	visible := a.trayVisible()
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		return true // closing already
	}
	hide := !a.quitting && visible && a.profile.HidesOnClose()
	a.closing = !hide
	a.mu.Unlock()
	if hide {
		a.window.Hide()
		a.out.printf("hidden to tray")
	}
	return hide
}

// trayVisible reports whether the tray icon can be seen now: the app has one and (for the OS
// tray) a tray host shows it.
func (a *App) trayVisible() bool {
	a.mu.Lock()
	has := a.tray != nil
	a.mu.Unlock()
	return has && (!a.osTray || trayHostPresent())
}

// SecondInstance brings the window forward when herald is started again.
func (a *App) SecondInstance(args []string) {
	a.log.Info("herald started again: showing the window", "args", args)
	a.out.printf("second instance")
	a.showWindow()
}
