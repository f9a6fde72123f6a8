package backend_test

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

func ptr[T any](v T) *T { return &v }

func TestProfilePatchCheck(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	for _, tc := range []struct {
		name string
		p    backend.ProfilePatch
		ok   bool
	}{
		{"empty patch", backend.ProfilePatch{}, true},
		{"display name", backend.ProfilePatch{DisplayName: ptr("  Alice A.  ")}, true},
		{"blank display name", backend.ProfilePatch{DisplayName: ptr("   ")}, false},
		{"long display name", backend.ProfilePatch{DisplayName: ptr(strings.Repeat("é", backend.MaxDisplayNameLen+1))}, false},
		{"display name at the limit", backend.ProfilePatch{DisplayName: ptr(strings.Repeat("é", backend.MaxDisplayNameLen))}, true},
		{"bidi override", backend.ProfilePatch{DisplayName: ptr("ali\u202ece")}, false},
		{"status text", backend.ProfilePatch{StatusText: ptr("In a meeting")}, true},
		{"empty status text", backend.ProfilePatch{StatusText: ptr("")}, true},
		{"long status text", backend.ProfilePatch{StatusText: ptr(strings.Repeat("x", backend.MaxStatusTextLen+1))}, false},
		{"control in status", backend.ProfilePatch{StatusText: ptr("a\nb")}, false},
		{"emoji", backend.ProfilePatch{StatusEmoji: ptr("🌴")}, true},
		{"no emoji", backend.ProfilePatch{StatusEmoji: ptr("")}, true},
		{"two emoji", backend.ProfilePatch{StatusEmoji: ptr("🌴🌴")}, false},
		{"text as emoji", backend.ProfilePatch{StatusEmoji: ptr("away")}, false},
		{"future expiry", backend.ProfilePatch{StatusExpiresAt: ptr(now.Add(time.Hour).UnixMilli())}, true},
		{"no expiry", backend.ProfilePatch{StatusExpiresAt: ptr(int64(0))}, true},
		{"past expiry", backend.ProfilePatch{StatusExpiresAt: ptr(now.Add(-time.Second).UnixMilli())}, false},
		{"expiry now", backend.ProfilePatch{StatusExpiresAt: ptr(now.UnixMilli())}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.Check(now)
			if (err == nil) != tc.ok {
				t.Fatalf("Check = %v, want ok %v", err, tc.ok)
			}
			if err != nil && backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("error code %q", backend.ErrorCode(err))
			}
			if err == nil && got.DisplayName != nil && *got.DisplayName != strings.TrimSpace(*got.DisplayName) {
				t.Fatalf("display name not trimmed: %q", *got.DisplayName)
			}
		})
	}
}

func TestProfilePatchApplyAndExpiry(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	later := now.Add(time.Hour).UnixMilli()
	u := &backend.User{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", DisplayName: "Alice"}
	if (backend.ProfilePatch{}).Apply(u) {
		t.Fatal("an empty patch changed the user")
	}
	if !(backend.ProfilePatch{StatusText: ptr("Lunch"), StatusEmoji: ptr("🍜"), StatusExpiresAt: &later}).Apply(u) {
		t.Fatal("setting a status changed nothing")
	}
	if u.StatusExpiresAt != later {
		t.Fatalf("expiry %d", u.StatusExpiresAt)
	}
	// A new status without an expiry does not inherit the old one's.
	(backend.ProfilePatch{StatusText: ptr("Back")}).Apply(u)
	if u.StatusExpiresAt != 0 || u.StatusEmoji != "🍜" || u.StatusText != "Back" {
		t.Fatalf("after a new text: %+v", u)
	}
	// Clearing the status clears its expiry.
	(backend.ProfilePatch{StatusExpiresAt: &later}).Apply(u)
	(backend.ProfilePatch{StatusText: ptr(""), StatusEmoji: ptr("")}).Apply(u)
	if u.StatusExpiresAt != 0 {
		t.Fatalf("cleared status keeps expiry %d", u.StatusExpiresAt)
	}

	(backend.ProfilePatch{StatusText: ptr("Lunch"), StatusExpiresAt: &later}).Apply(u)
	if p := *u; p.Present(now).StatusText != "Lunch" {
		t.Fatal("a status that has not expired reads as cleared")
	}
	p := *u
	p.Present(time.UnixMilli(later))
	if p.StatusText != "" || p.StatusEmoji != "" || p.StatusExpiresAt != 0 {
		t.Fatalf("an expired status reads %+v", p)
	}
	if p.AvatarColor == "" || p.AvatarColor != backend.AvatarColor(u.ID) {
		t.Fatalf("avatar colour %q", p.AvatarColor)
	}
	// The same id always gets the same colour (it is derived, never stored).
	first := backend.AvatarColor("x")
	for range 3 {
		if again := backend.AvatarColor("x"); again != first {
			t.Fatalf("avatar colour of x: %q, then %q", first, again)
		}
	}
}

func TestDeviceLabel(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                                   "Chrome on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                      "Safari on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "Safari on iOS",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                          "Firefox on Linux",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36":                   "Chrome on Android",
		"herald-client":  "Herald desktop",
		"curl/8.5.0":     "API client",
		"Go-http-client": "API client",
		"":               "Unknown device",
		"Mozilla/5.0":    "Browser",
	} {
		if got := backend.DeviceLabel(ua); got != want {
			t.Errorf("DeviceLabel(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestMatchesUserQuery(t *testing.T) {
	u := &backend.User{Username: "alice.smith", DisplayName: "Alice Ångström"}
	for q, want := range map[string]bool{"ali": true, "smith": true, "ångström": true, "alice å": true, "bob": false} {
		if got := backend.MatchesUserQuery(u, q); got != want {
			t.Errorf("MatchesUserQuery(%q) = %v", q, got)
		}
	}
}
