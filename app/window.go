package app

import (
	"context"

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
