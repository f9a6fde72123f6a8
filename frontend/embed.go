// Package frontend embeds the built web client (frontend/dist) so herald-server and the desktop
// app serve it.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built web client rooted at dist/. Before `npm run build` it holds only the
// placeholder .gitkeep.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err)
	}
	return sub
}
