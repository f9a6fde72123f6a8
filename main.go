// Command herald is the Herald desktop app. It hosts a team server for its team (the server runs
// inside the app) or joins one elsewhere, and shows the web client in a native window, with
// native notifications, a tray icon and a durable outbox.
//
//	herald [--data-dir DIR] [--host ADDR | --join URL]
//
// --join signs in with HERALD_USERNAME and HERALD_PASSWORD from the environment (never flags).
// HERALD_DEBUG_ADDR=127.0.0.1:PORT also serves what the webview sees on that loopback address.
//
// Nothing starts before wails.Run: the Wails CLI runs main to generate bindings.
package main

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	_ "time/tzdata" // quiet hours need time zones on machines without /usr/share/zoneinfo

	"github.com/herald-chat/herald/app"
	"github.com/herald-chat/herald/frontend"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

// appIcon is the window's and the native notifications' icon (build/appicon.png, which wails
// build also turns into the Windows and macOS icons).
//
//go:embed build/appicon.png
var appIcon []byte

func main() {
	var opts app.Options
	flag.StringVar(&opts.DataDir, "data-dir", "", "directory of the app's data and a hosted team server's (default: the user's data directory/herald)")
	flag.StringVar(&opts.HostAddr, "host", "", "host a team server (HTTPS, a self-signed certificate in the data dir) on this address (e.g. 0.0.0.0:7878) without the first-run chooser")
	flag.StringVar(&opts.JoinURL, "join", "", "join the team server at this URL or invite link without the chooser; an invite link's #sha256= fingerprint pins its certificate (credentials from HERALD_USERNAME and HERALD_PASSWORD)")
	flag.BoolVar(&opts.NoLAN, "no-lan", false, "neither announce a hosted team on the local network nor look for teams there (mDNS), whatever the settings say")
	flag.Parse()
	if opts.HostAddr != "" && opts.JoinURL != "" {
		fmt.Fprintln(os.Stderr, "herald: --host and --join exclude each other")
		os.Exit(2)
	}
	opts.Username, opts.Password = os.Getenv("HERALD_USERNAME"), os.Getenv("HERALD_PASSWORD")
	opts.DebugAddr = os.Getenv("HERALD_DEBUG_ADDR")
	opts.WebClient = frontend.Dist()
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts.AppIcon = appIcon

	a := app.New(opts)
	err := wails.Run(&options.App{
		Title:     "Herald",
		Width:     1100,
		Height:    720,
		MinWidth:  640,
		MinHeight: 480,
		AssetServer: &assetserver.Options{
			Assets:     opts.WebClient,
			Middleware: a.Middleware,
		},
		Linux:         &linux.Options{Icon: appIcon, ProgramName: "herald"},
		OnStartup:     a.Startup,
		OnBeforeClose: a.BeforeClose,
		OnShutdown:    a.Shutdown,
		// Nothing is bound: the page talks to the app over /desktop/ (the token must never be
		// reachable from JavaScript). One window per data directory: starting herald again brings it forward.
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               instanceID(opts.DataDir),
			OnSecondInstanceLaunch: func(d options.SecondInstanceData) { a.SecondInstance(d.Args) },
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

// instanceID names the single-instance lock after the data directory, so that two profiles (and
// parallel tests) can run side by side.
func instanceID(dataDir string) string {
	if abs, err := filepath.Abs(dataDir); err == nil && dataDir != "" {
		dataDir = abs
	}
	sum := sha256.Sum256([]byte(dataDir))
	return "chat.herald.desktop." + hex.EncodeToString(sum[:8])
}
