package backend_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestMentions(t *testing.T) {
	tests := []struct {
		content string
		want    []string
	}{
		{"hi @bob", []string{"bob"}},
		{"@Bob and @alice, then @bob again", []string{"bob", "alice"}},
		{"thanks @bob.", []string{"bob"}},
		{"ask @j.doe-2 please", []string{"j.doe-2"}},
		{"mail bob@example.com", nil},
		{"@ alone and @x too short", nil},
		{"(@carol)", []string{"carol"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := backend.Mentions(tt.content); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Mentions(%q) = %v, want %v", tt.content, got, tt.want)
		}
	}
}

func TestSafeFileName(t *testing.T) {
	tests := map[string]string{
		"report.pdf":             "report.pdf",
		"../../etc/passwd":       "passwd",
		`C:\Users\me\evil.exe`:   "evil.exe",
		"..":                     "file",
		"":                       "file",
		".hidden":                "hidden",
		"a\x00b\nc\u202ed.txt":   "abcd.txt",
		"/":                      "file",
		strings.Repeat("é", 150): strings.Repeat("é", 100),
		"  spaced name .txt ":    "spaced name .txt",
	}
	for in, want := range tests {
		if got := backend.SafeFileName(in); got != want {
			t.Errorf("SafeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
