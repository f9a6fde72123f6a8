package backend_test

import (
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestDecide(t *testing.T) {
	berlin := &backend.QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"}
	daytime := &backend.QuietHours{Start: "12:00", End: "13:30", TimeZone: "America/New_York"}
	until := at(t, "2026-06-01T12:30:00Z")
	message := backend.Notice{Kind: backend.KindMessage, ChatID: "C1", ChatName: "ops"}
	critical := backend.Notice{Kind: backend.KindSystem, Critical: true}
	tests := []struct {
		name   string
		prefs  func(p *backend.Preferences)
		notice backend.Notice
		now    string
		want   backend.Decision
	}{
		{"defaults notify", nil, message, "2026-06-01T12:00:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}},
		// Quiet hours 22:00–07:00 Berlin (UTC+2 in summer): 23:30 local is 21:30Z.
		{"inside quiet hours before midnight", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-06-01T21:30:00Z", backend.Decision{Notify: false, Reason: "quiet hours 22:00–07:00 (Europe/Berlin)"}},
		{"inside quiet hours after midnight", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-06-02T04:59:00Z", backend.Decision{Notify: false, Reason: "quiet hours 22:00–07:00 (Europe/Berlin)"}},
		{"quiet hours end at 07:00 local", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-06-02T05:00:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}},
		{"outside quiet hours", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-06-01T12:00:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}},
		{"quiet hours start at 22:00 local", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-06-01T20:00:00Z", backend.Decision{Notify: false, Reason: "quiet hours 22:00–07:00 (Europe/Berlin)"}},
		{"daytime window not spanning midnight", func(p *backend.Preferences) { p.QuietHours = daytime }, message,
			"2026-06-01T16:15:00Z", backend.Decision{Notify: false, Reason: "quiet hours 12:00–13:30 (America/New_York)"}},
		{"after a daytime window", func(p *backend.Preferences) { p.QuietHours = daytime }, message,
			"2026-06-01T17:30:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}},
		// Berlin moves from UTC+1 to UTC+2 at 01:00Z on 2026-03-29: 05:30Z is 06:30 the day
		// before (inside) and 07:30 on the day itself (outside).
		{"daylight saving: the day before the change", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-03-28T05:30:00Z", backend.Decision{Notify: false, Reason: "quiet hours 22:00–07:00 (Europe/Berlin)"}},
		{"daylight saving: the day of the change", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-03-29T05:30:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}},
		{"daylight saving: start on the day clocks go back", func(p *backend.Preferences) { p.QuietHours = berlin }, message,
			"2026-10-25T20:59:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}}, // 21:59 CET
		{"do not disturb with expiry", func(p *backend.Preferences) { p.DoNotDisturb = &backend.DoNotDisturb{Until: &until} }, message,
			"2026-06-01T12:29:59Z", backend.Decision{Notify: false, Reason: "do not disturb until 12:30"}},
		{"do not disturb ends exactly at its expiry", func(p *backend.Preferences) { p.DoNotDisturb = &backend.DoNotDisturb{Until: &until} }, message,
			"2026-06-01T12:30:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}},
		{"do not disturb expiry in the quiet-hours zone", func(p *backend.Preferences) {
			p.DoNotDisturb = &backend.DoNotDisturb{Until: &until}
			p.QuietHours = berlin
		}, message, "2026-06-01T12:00:00Z", backend.Decision{Notify: false, Reason: "do not disturb until 14:30"}},
		{"indefinite do not disturb", func(p *backend.Preferences) { p.DoNotDisturb = &backend.DoNotDisturb{} }, message,
			"2030-01-01T00:00:00Z", backend.Decision{Notify: false, Reason: "do not disturb"}},
		{"critical breaks through quiet hours", func(p *backend.Preferences) { p.QuietHours = berlin }, critical,
			"2026-06-01T21:30:00Z", backend.Decision{Notify: true, Reason: "critical alert breaks through quiet hours 22:00–07:00 (Europe/Berlin)"}},
		{"critical breaks through do not disturb", func(p *backend.Preferences) { p.DoNotDisturb = &backend.DoNotDisturb{} }, critical,
			"2026-06-01T12:00:00Z", backend.Decision{Notify: true, Reason: "critical alert breaks through do not disturb"}},
		{"critical does not break through when not allowed", func(p *backend.Preferences) {
			p.DoNotDisturb = &backend.DoNotDisturb{}
			p.CriticalBreaksThrough = false
		}, critical, "2026-06-01T12:00:00Z", backend.Decision{Notify: false, Reason: "do not disturb"}},
		{"muted chat", func(p *backend.Preferences) { p.MutedChats = []string{"C1"} }, message,
			"2026-06-01T12:00:00Z", backend.Decision{Notify: false, Reason: "chat #ops is muted"}},
		{"a mention in a muted chat still notifies", func(p *backend.Preferences) { p.MutedChats = []string{"C1"} },
			backend.Notice{Kind: backend.KindMention, ChatID: "C1", ChatName: "ops"},
			"2026-06-01T12:00:00Z", backend.Decision{Notify: true, Reason: "notifications are on"}},
		{"a kind switched off", func(p *backend.Preferences) { p.Kinds = map[backend.NotificationKind]bool{backend.KindTask: false} },
			backend.Notice{Kind: backend.KindTask}, "2026-06-01T12:00:00Z", backend.Decision{Notify: false, Reason: "task notifications are turned off"}},
		{"a kind switched off silences even critical", func(p *backend.Preferences) { p.Kinds = map[backend.NotificationKind]bool{backend.KindSystem: false} },
			critical, "2026-06-01T12:00:00Z", backend.Decision{Notify: false, Reason: "system notifications are turned off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := backend.DefaultPreferences()
			if tt.prefs != nil {
				tt.prefs(&p)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("preferences do not validate: %v", err)
			}
			if got := p.Decide(tt.notice, at(t, tt.now)); got != tt.want {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPreferencesValidate(t *testing.T) {
	tests := []struct {
		name  string
		prefs func(p *backend.Preferences)
	}{
		{"volume above 1", func(p *backend.Preferences) { p.Volume = 1.5 }},
		{"negative volume", func(p *backend.Preferences) { p.Volume = -0.1 }},
		{"toast too short", func(p *backend.Preferences) { p.ToastSeconds = 1 }},
		{"toast too long", func(p *backend.Preferences) { p.ToastSeconds = 61 }},
		{"unknown time zone", func(p *backend.Preferences) {
			p.QuietHours = &backend.QuietHours{Start: "22:00", End: "07:00", TimeZone: "Mars/Olympus"}
		}},
		{"missing time zone", func(p *backend.Preferences) { p.QuietHours = &backend.QuietHours{Start: "22:00", End: "07:00"} }},
		{"hour 24", func(p *backend.Preferences) {
			p.QuietHours = &backend.QuietHours{Start: "24:00", End: "07:00", TimeZone: "UTC"}
		}},
		{"no leading zero", func(p *backend.Preferences) {
			p.QuietHours = &backend.QuietHours{Start: "7:00", End: "22:00", TimeZone: "UTC"}
		}},
		{"not a time", func(p *backend.Preferences) {
			p.QuietHours = &backend.QuietHours{Start: "22:00", End: "late", TimeZone: "UTC"}
		}},
		{"unknown kind", func(p *backend.Preferences) { p.Kinds = map[backend.NotificationKind]bool{"weather": true} }},
		{"empty sound name", func(p *backend.Preferences) {
			p.SoundByKind = map[backend.NotificationKind]string{backend.KindTask: ""}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := backend.DefaultPreferences()
			tt.prefs(&p)
			if err := p.Validate(); backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("Validate = %v, want an EINVALID error", err)
			}
		})
	}
}

// TestQuietHoursTimes: quiet hours take exactly HH:MM, two digits each.
func TestQuietHoursTimes(t *testing.T) {
	for _, tc := range []struct {
		clock string
		valid bool
	}{
		{"00:00", true}, {"23:59", true}, {"07:05", true}, {"12:30", true},
		{"+1:+5", false}, {"-1:05", false}, {"+7:00", false}, {"07:+5", false}, {"07:-5", false},
		{" 7:00", false}, {"07: 5", false}, {"7:00 ", false}, {"07:5", false}, {"7:05", false},
		{"0700", false}, {"07-00", false}, {"07:00:00", false}, {"", false},
		{"24:00", false}, {"23:60", false}, {"99:99", false}, {"a7:00", false}, {"07:0x", false},
		{"٠٧:٠٠", false}, // Arabic-Indic digits
	} {
		p := backend.DefaultPreferences()
		p.QuietHours = &backend.QuietHours{Start: tc.clock, End: "06:00", TimeZone: "UTC"}
		err := p.Validate()
		if tc.valid != (err == nil) {
			t.Errorf("start %q: Validate = %v, want valid %v", tc.clock, err, tc.valid)
		}
		p.QuietHours = &backend.QuietHours{Start: "22:00", End: tc.clock, TimeZone: "UTC"}
		if err := p.Validate(); tc.valid != (err == nil) {
			t.Errorf("end %q: Validate = %v, want valid %v", tc.clock, err, tc.valid)
		}
	}
}
