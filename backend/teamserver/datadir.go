package teamserver

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// UserDataDir is where a program called name keeps its data by default: $XDG_DATA_HOME/name
// (default ~/.local/share/name) on Linux and other Unixes, the platform's application-data
// directory (Application Support, %AppData%) on macOS and Windows.
func UserDataDir(name string) (string, error) {
	switch runtime.GOOS {
	case "darwin", "windows":
		dir, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("no application data directory: %w", err)
		}
		return filepath.Join(dir, name), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, name), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the data dir: %w", err)
	}
	return filepath.Join(home, ".local", "share", name), nil
}
