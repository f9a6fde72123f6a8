// Command herald is the Herald desktop app. It hosts a team server for its team (the server runs
// inside the app) and shows the web client in a native window.
//
//	herald [--data-dir DIR] [--host ADDR]
//
// Nothing starts before wails.Run: the Wails CLI runs main to generate bindings.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	_ "time/tzdata" // quiet hours need time zones on machines without /usr/share/zoneinfo

	"github.com/herald-chat/herald/app"
	"github.com/herald-chat/herald/frontend"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
)

func main() {
	var opts app.Options
	flag.StringVar(&opts.DataDir, "data-dir", "", "directory of the hosted team server's data (default: the user's data directory/herald)")
	flag.StringVar(&opts.HostAddr, "host", app.DefaultHostAddr, "address the hosted team server listens on")
	flag.Parse()
	opts.WebClient = frontend.Dist()
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

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
		OnStartup:  a.Startup,
		OnShutdown: a.Shutdown,
		Bind:       []any{a},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}
