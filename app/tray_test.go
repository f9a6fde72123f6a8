package app

import (
	"bytes"
	"image/png"
	"testing"
)

func TestTrayViewFollowsConnectionState(t *testing.T) {
	tests := []struct {
		view        TrayView
		wantColor   string
		wantTooltip string
		wantTitle   string
	}{
		{TrayView{State: StateLive, Team: "Acme", Unread: 3}, "green", "Herald — Live · Acme · 3 unread", "(3) Acme — Herald"},
		{TrayView{State: StateLive, Team: "Acme", Unread: 1}, "green", "Herald — Live · Acme · 1 unread", "(1) Acme — Herald"},
		{TrayView{State: StateConnecting, Team: "Acme"}, "yellow", "Herald — Connecting · Acme", "Acme — Herald"},
		{TrayView{State: StateReconnecting, Team: "Acme", Unread: 12}, "red", "Herald — Reconnecting · Acme · 12 unread", "(12) Acme — Herald"},
		{TrayView{State: StateSignedOut}, "grey", "Herald — Signed out", "Herald"},
		{TrayView{State: StateLive, Team: "Acme", Unread: 2, Silenced: "do not disturb until 14:30"}, "green",
			"Herald — Live · Acme · 2 unread · do not disturb until 14:30", "(2) Acme — Herald"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.wantTooltip, func(t *testing.T) {
			if got := tt.view.IconColor(); got != tt.wantColor {
				t.Errorf("icon %s, want %s", got, tt.wantColor)
			}
			if got := tt.view.Tooltip(); got != tt.wantTooltip {
				t.Errorf("tooltip %q, want %q", got, tt.wantTooltip)
			}
			if got := tt.view.WindowTitle(); got != tt.wantTitle {
				t.Errorf("title %q, want %q", got, tt.wantTitle)
			}
			icon := tt.view.Icon()
			img, err := png.Decode(bytes.NewReader(icon))
			if err != nil {
				t.Fatalf("icon is not a PNG: %v", err)
			}
			// The centre pixel carries the state's colour.
			r, g, b, _ := img.At(32, 28).RGBA()
			want := stateColors[tt.view.State]
			if uint8(r>>8) != want.R || uint8(g>>8) != want.G || uint8(b>>8) != want.B {
				t.Errorf("centre pixel %d,%d,%d, want %v", r>>8, g>>8, b>>8, want)
			}
			if _, corner, _, a := img.At(63, 0).RGBA(); a != 0 {
				t.Errorf("top-right corner is not transparent (%d)", corner)
			}
		})
		seen[tt.view.IconColor()] = true
	}
	if !bytes.Equal(TrayView{State: StateLive}.Icon(), TrayView{State: StateLive, Unread: 5}.Icon()) ||
		bytes.Equal(TrayView{State: StateLive}.Icon(), TrayView{State: StateReconnecting}.Icon()) {
		t.Error("icons must depend on the state alone")
	}
}

func TestPNGToICO(t *testing.T) {
	p := TrayView{State: StateLive}.Icon()
	ico := pngToICO(p)
	if len(ico) != 22+len(p) || !bytes.Equal(ico[:6], []byte{0, 0, 1, 0, 1, 0}) || ico[6] != 64 || ico[7] != 64 ||
		!bytes.Equal(ico[22:], p) {
		t.Fatalf("ICO header % x", ico[:22])
	}
}
