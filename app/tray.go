package app

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// ConnState is the Go side's own stream connection, as the tray shows it.
type ConnState string

const (
	StateConnecting   ConnState = "Connecting"
	StateLive         ConnState = "Live"
	StateReconnecting ConnState = "Reconnecting"
	// StateSignedOut: no team chosen yet or the session ended; the window shows what to do.
	StateSignedOut ConnState = "Signed out"
)

// Tray is the system tray item. Implementations exist per OS (tray_systray.go on Linux and
// Windows); where there is no tray host the app runs without one.
type Tray interface {
	// Show replaces the icon (PNG bytes; the implementation converts for its OS) and the tooltip.
	Show(icon []byte, tooltip string)
}

// TrayMenu is what the tray menu asks of the app. Calls come from the tray's goroutine.
type TrayMenu struct {
	Open func()
	// DoNotDisturb sets the server-side preference: "1h", "tomorrow" or "off".
	DoNotDisturb func(preset string)
	Quit         func()
}

// TrayView is what the tray and the window title show: the connection, the team and the unread
// count (from the server, muted chats excluded).
type TrayView struct {
	State  ConnState
	Team   string
	Unread int
	// Silenced says what silences notifications now ("do not disturb until 14:30"), or "".
	Silenced string
}

// Tooltip is "Herald — Live · Acme · 3 unread · do not disturb until 14:30".
func (v TrayView) Tooltip() string {
	s := "Herald — " + string(v.State)
	if v.Team != "" {
		s += " · " + v.Team
	}
	switch {
	case v.Unread == 1:
		s += " · 1 unread"
	case v.Unread > 1:
		s += fmt.Sprintf(" · %d unread", v.Unread)
	}
	if v.Silenced != "" {
		s += " · " + v.Silenced
	}
	return s
}

// WindowTitle is "(3) Acme — Herald", or "Herald" without a team.
func (v TrayView) WindowTitle() string {
	title := "Herald"
	if v.Team != "" {
		title = v.Team + " — Herald"
	}
	if v.Unread > 0 {
		title = fmt.Sprintf("(%d) %s", v.Unread, title)
	}
	return title
}

// Icon is the tray icon for the state: green when live, yellow while connecting, red while
// reconnecting, grey when signed out.
func (v TrayView) Icon() []byte { return stateIcons[v.State] }

// IconColor names the icon's colour, for tests and logs.
func (v TrayView) IconColor() string {
	switch v.State {
	case StateLive:
		return "green"
	case StateConnecting:
		return "yellow"
	case StateReconnecting:
		return "red"
	}
	return "grey"
}

var stateColors = map[ConnState]color.NRGBA{
	StateLive:         {0x2e, 0x9d, 0x4f, 0xff},
	StateConnecting:   {0xe0, 0xa8, 0x00, 0xff},
	StateReconnecting: {0xd6, 0x45, 0x41, 0xff},
	StateSignedOut:    {0x8a, 0x8f, 0x98, 0xff},
}

var stateIcons = func() map[ConnState][]byte {
	m := map[ConnState][]byte{}
	for s, c := range stateColors {
		m[s] = bubbleIcon(c, 64)
	}
	return m
}()

// bubbleIcon draws a speech bubble of colour c, size×size pixels, antialiased, as a PNG.
func bubbleIcon(c color.NRGBA, size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	cx, cy, r := s/2, s*0.44, s*0.40
	for y := range size {
		for x := range size {
			// 4×4 supersampling for smooth edges.
			hits := 0
			for sy := range 4 {
				for sx := range 4 {
					px, py := float64(x)+(float64(sx)+0.5)/4, float64(y)+(float64(sy)+0.5)/4
					inCircle := math.Hypot(px-cx, py-cy) <= r
					// The tail: a triangle from the lower left of the circle down towards the corner.
					inTail := inTriangle(px, py, s*0.22, cy+r*0.5, s*0.50, cy+r*0.8, s*0.10, s*0.96)
					if inCircle || inTail {
						hits++
					}
				}
			}
			if hits > 0 {
				a := uint8(int(c.A) * hits / 16)
				img.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, a})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(fmt.Sprintf("encode tray icon: %v", err)) // cannot fail for an in-memory NRGBA
	}
	return buf.Bytes()
}

func inTriangle(px, py, ax, ay, bx, by, cx, cy float64) bool {
	side := func(x1, y1, x2, y2 float64) float64 { return (px-x2)*(y1-y2) - (x1-x2)*(py-y2) }
	d1, d2, d3 := side(ax, ay, bx, by), side(bx, by, cx, cy), side(cx, cy, ax, ay)
	neg := d1 < 0 || d2 < 0 || d3 < 0
	pos := d1 > 0 || d2 > 0 || d3 > 0
	return !(neg && pos)
}

// pngToICO wraps PNG bytes in an ICO container (Windows Vista and later read PNG entries), for
// the Windows tray.
func pngToICO(p []byte) []byte {
	cfg, err := png.DecodeConfig(bytes.NewReader(p))
	if err != nil {
		return nil
	}
	dim := func(n int) byte {
		if n >= 256 {
			return 0
		}
		return byte(n)
	}
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, [3]uint16{0, 1, 1}) // reserved, type icon, 1 image
	buf.Write([]byte{dim(cfg.Width), dim(cfg.Height), 0, 0})
	_ = binary.Write(&buf, binary.LittleEndian, [2]uint16{1, 32}) // planes, bits per pixel
	_ = binary.Write(&buf, binary.LittleEndian, [2]uint32{uint32(len(p)), 6 + 16})
	buf.Write(p)
	return buf.Bytes()
}
