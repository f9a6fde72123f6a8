package backend_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/herald-chat/herald/backend"
)

// FuzzPreferencesValidate: any JSON the API could decode into Preferences validates without
// panicking, and what validates survives a round trip through JSON (as it is stored and sent)
// unchanged and still valid.
func FuzzPreferencesValidate(f *testing.F) {
	f.Add([]byte(`{"sounds":true,"volume":0.7,"toastSeconds":6}`))
	f.Add([]byte(`{"volume":1,"toastSeconds":60,"quietHours":{"start":"22:00","end":"07:00","timeZone":"Europe/Berlin"}}`))
	f.Add([]byte(`{"toastSeconds":2,"quietHours":{"start":"+1:+5","end":"07:00","timeZone":"UTC"}}`))
	f.Add([]byte(`{"toastSeconds":6,"kinds":{"agent":false},"soundByKind":{"mention":"chime"},"mutedChats":["01J"]}`))
	f.Add([]byte(`{"toastSeconds":6,"doNotDisturb":{"until":"2026-06-01T14:30:00Z"}}`))
	f.Add([]byte(`{"toastSeconds":6,"quietHours":{"start":"00:00","end":"23:59","timeZone":"Local"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := backend.DefaultPreferences()
		if json.Unmarshal(data, &p) != nil {
			return
		}
		if err := p.Validate(); err != nil {
			if backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("Validate: %v", err)
			}
			return
		}
		stored, err := json.Marshal(&p)
		if err != nil {
			t.Fatalf("a valid %+v does not encode: %v", p, err)
		}
		var again backend.Preferences
		if err := json.Unmarshal(stored, &again); err != nil {
			t.Fatalf("%s does not decode: %v", stored, err)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("%s validated, then not: %v", stored, err)
		}
		if restored, _ := json.Marshal(&again); !bytes.Equal(restored, stored) {
			t.Fatalf("round trip changed %s into %s", stored, restored)
		}
	})
}

// FuzzSafeFileName: whatever a client sends as a file name, the stored name is valid UTF-8,
// non-empty, at most MaxFileNameLen bytes, holds no path separator, NUL, control or format
// character, does not start with a dot or a space, and making it safe again changes nothing.
func FuzzSafeFileName(f *testing.F) {
	for _, seed := range []string{"report.pdf", "../../etc/passwd", `..\..\boot.ini`, ".hidden", ". x", "a\x00b",
		"notes\u202e.txt", "\xff\xfe.png", strings.Repeat("é", 150), "/", "", " .. ", "dir/", "x\u3000"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := backend.SafeFileName(name)
		if got == "" || len(got) > backend.MaxFileNameLen || !utf8.ValidString(got) {
			t.Fatalf("SafeFileName(%q) = %q", name, got)
		}
		if strings.ContainsAny(got, "/\\\x00") || strings.HasPrefix(got, ".") || got != strings.TrimSpace(got) {
			t.Fatalf("SafeFileName(%q) = %q", name, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("SafeFileName(%q) = %q holds %U", name, got, r)
			}
		}
		if again := backend.SafeFileName(got); again != got {
			t.Fatalf("SafeFileName(%q) = %q, then %q", name, got, again)
		}
	})
}

// FuzzCheckEmoji: CheckEmoji never panics, and what it accepts is one short valid UTF-8
// sequence without letters, digits other than a keycap's, spaces or control characters, which
// survives a round trip through a URL path segment (reactions travel in one).
func FuzzCheckEmoji(f *testing.F) {
	for _, s := range []string{"👍", "👍🏽", "🇩🇪", "1️⃣", "👨‍👩‍👧", "a", "", "👍👍", "\u200d", "🏴\U000E0067\U000E007F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if backend.CheckEmoji(s) != nil {
			return
		}
		if !utf8.ValidString(s) || len(s) > backend.MaxEmojiLen {
			t.Fatalf("accepted %q", s)
		}
		for i, r := range s {
			if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.IsLetter(r) || unicode.IsDigit(r) && i != 0 {
				t.Fatalf("accepted %q with %U", s, r)
			}
		}
	})
}
