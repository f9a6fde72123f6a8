package backend_test

import (
	"testing"

	"github.com/herald-chat/herald/backend"
)

// TestDecideNotifyAnyway: a sender's notify anyway notifies during do-not-disturb and quiet hours
// only as far as the recipient's BreakThrough lets it, at most MaxBreakThroughs times per window,
// and never past a kind switched off or a muted chat.
func TestDecideNotifyAnyway(t *testing.T) {
	berlin := &backend.QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"}
	const night = "2026-06-01T21:30:00Z" // 23:30 in Berlin
	dm := backend.Notice{Kind: backend.KindMessage, ChatID: "D1", NotifyAnyway: true, BreakThrough: backend.BreakThroughDMs, ActorName: "Alice"}
	mention := backend.Notice{Kind: backend.KindMention, ChatID: "C1", ChatName: "ops", NotifyAnyway: true,
		BreakThrough: backend.BreakThroughAlways, ActorName: "Alice"}
	channel := backend.Notice{Kind: backend.KindMessage, ChatID: "C1", ChatName: "ops", NotifyAnyway: true, ActorName: "Alice"}
	quiet := "quiet hours 22:00–07:00 (Europe/Berlin)"
	broke := backend.Decision{Notify: true, Reason: "Alice chose to notify you during your quiet hours", BrokeThrough: true}
	refused := backend.Decision{Notify: false, Reason: quiet + "; Alice asked to notify you anyway"}
	with := func(n backend.Notice, f func(*backend.Notice)) backend.Notice { f(&n); return n }
	tests := []struct {
		name   string
		allow  backend.BreakThrough
		prefs  func(*backend.Preferences)
		notice backend.Notice
		now    string
		want   backend.Decision
	}{
		{"off refuses a DM", backend.BreakThroughOff, nil, dm, night, refused},
		{"dms lets a DM through", backend.BreakThroughDMs, nil, dm, night, broke},
		{"dms refuses a mention in a channel", backend.BreakThroughDMs, nil, mention, night, refused},
		{"always lets a mention through", backend.BreakThroughAlways, nil, mention, night, broke},
		{"always lets a DM through", backend.BreakThroughAlways, nil, dm, night, broke},
		{"a channel message never breaks through", backend.BreakThroughAlways, nil, channel, night, refused},
		{"without notify anyway nothing breaks through", backend.BreakThroughAlways, nil,
			with(dm, func(n *backend.Notice) { n.NotifyAnyway = false }), night, backend.Decision{Notify: false, Reason: quiet}},
		{"outside quiet hours it is an ordinary notification", backend.BreakThroughAlways, nil, dm, "2026-06-01T12:00:00Z",
			backend.Decision{Notify: true, Reason: "notifications are on"}},
		{"do not disturb", backend.BreakThroughDMs, func(p *backend.Preferences) { p.DoNotDisturb = &backend.DoNotDisturb{} }, dm,
			"2026-06-01T12:00:00Z", backend.Decision{Notify: true, Reason: "Alice chose to notify you during your do not disturb", BrokeThrough: true}},
		{"below the limit", backend.BreakThroughDMs, nil,
			with(dm, func(n *backend.Notice) { n.RecentBreakThroughs = backend.MaxBreakThroughs - 1 }), night, broke},
		{"at the limit", backend.BreakThroughDMs, nil,
			with(dm, func(n *backend.Notice) { n.RecentBreakThroughs = backend.MaxBreakThroughs }), night,
			backend.Decision{Notify: false, Reason: quiet + "; Alice asked to notify you anyway, more than 3 times in an hour"}},
		{"a muted chat stays muted", backend.BreakThroughAlways, func(p *backend.Preferences) { p.MutedChats = []string{"D1"} }, dm, night,
			backend.Decision{Notify: false, Reason: "chat # is muted"}},
		{"a kind switched off stays off", backend.BreakThroughAlways,
			func(p *backend.Preferences) { p.Kinds = map[backend.NotificationKind]bool{backend.KindMention: false} }, mention, night,
			backend.Decision{Notify: false, Reason: "mention notifications are turned off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := backend.DefaultPreferences()
			p.QuietHours, p.BreakThrough = berlin, tt.allow
			if tt.prefs != nil {
				tt.prefs(&p)
			}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := p.Decide(tt.notice, at(t, tt.now)); got != tt.want {
				t.Errorf("Decide = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestBreakThroughNeeded(t *testing.T) {
	dm := &backend.Chat{Kind: backend.ChatDM}
	channel := &backend.Chat{Kind: backend.ChatChannel}
	private := &backend.Chat{Kind: backend.ChatPrivate}
	tests := []struct {
		chat *backend.Chat
		kind backend.NotificationKind
		want backend.BreakThrough
	}{
		{dm, backend.KindMessage, backend.BreakThroughDMs},
		{dm, backend.KindMention, backend.BreakThroughDMs},
		{dm, backend.KindReply, backend.BreakThroughDMs},
		{channel, backend.KindMention, backend.BreakThroughAlways},
		{private, backend.KindMention, backend.BreakThroughAlways},
		{channel, backend.KindMessage, ""},
		{channel, backend.KindReply, ""},
		{dm, backend.KindTask, ""},
	}
	for _, tt := range tests {
		if got := backend.BreakThroughNeeded(tt.chat, tt.kind); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.chat.Kind, tt.kind, got, tt.want)
		}
	}
}

func TestBreakThroughValidate(t *testing.T) {
	for _, b := range []backend.BreakThrough{"", "yes", "DMs", "never"} {
		p := backend.DefaultPreferences()
		p.BreakThrough = b
		if err := p.Validate(); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("breakThrough %q: Validate = %v, want EINVALID", b, err)
		}
	}
	for _, b := range backend.BreakThroughs {
		p := backend.DefaultPreferences()
		p.BreakThrough = b
		if err := p.Validate(); err != nil {
			t.Errorf("breakThrough %q: %v", b, err)
		}
	}
	if backend.DefaultPreferences().BreakThrough != backend.BreakThroughOff {
		t.Error("the default is not off")
	}
}

// TestSilenceOf: what a sender is told — which silence, until when on the member's clock, and
// whether notify anyway would reach them in this chat.
func TestSilenceOf(t *testing.T) {
	berlin := &backend.QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"}
	daytime := &backend.QuietHours{Start: "12:00", End: "13:30", TimeZone: "America/New_York"}
	dm := &backend.Chat{ID: "D1", Kind: backend.ChatDM}
	channel := &backend.Chat{ID: "C1", Kind: backend.ChatChannel}
	dndUntil := at(t, "2026-06-01T12:30:00Z")
	lateDND := at(t, "2026-06-01T21:00:00Z") // 23:00 in Berlin: inside its quiet hours
	tests := []struct {
		name  string
		prefs func(*backend.Preferences)
		chat  *backend.Chat
		now   string
		want  *backend.Silence
	}{
		{"nothing on", nil, dm, "2026-06-01T12:00:00Z", nil},
		{"outside quiet hours", func(p *backend.Preferences) { p.QuietHours = berlin }, dm, "2026-06-01T12:00:00Z", nil},
		{"quiet hours before midnight end the next morning", func(p *backend.Preferences) { p.QuietHours = berlin }, dm, "2026-06-01T21:30:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceQuietHours, Until: at(t, "2026-06-02T05:00:00Z").UnixMilli(), UntilLocal: "07:00"}},
		{"quiet hours after midnight end the same morning", func(p *backend.Preferences) { p.QuietHours = berlin }, dm, "2026-06-02T01:00:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceQuietHours, Until: at(t, "2026-06-02T05:00:00Z").UnixMilli(), UntilLocal: "07:00"}},
		{"a daytime window", func(p *backend.Preferences) { p.QuietHours = daytime }, channel, "2026-06-01T16:15:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceQuietHours, Until: at(t, "2026-06-01T17:30:00Z").UnixMilli(), UntilLocal: "13:30"}},
		// Berlin goes from UTC+1 to UTC+2 in the night of 2026-03-29: 07:00 is 05:00Z that day.
		{"across the daylight-saving change", func(p *backend.Preferences) { p.QuietHours = berlin }, dm, "2026-03-28T22:00:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceQuietHours, Until: at(t, "2026-03-29T05:00:00Z").UnixMilli(), UntilLocal: "07:00"}},
		{"do not disturb without an end", func(p *backend.Preferences) { p.DoNotDisturb = &backend.DoNotDisturb{} }, dm, "2026-06-01T12:00:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceDoNotDisturb}},
		{"do not disturb until, in UTC without quiet hours", func(p *backend.Preferences) {
			p.DoNotDisturb = &backend.DoNotDisturb{Until: &dndUntil}
		}, dm, "2026-06-01T12:00:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceDoNotDisturb, Until: dndUntil.UnixMilli(), UntilLocal: "12:30"}},
		{"do not disturb that ends inside quiet hours lasts until they end", func(p *backend.Preferences) {
			p.DoNotDisturb, p.QuietHours = &backend.DoNotDisturb{Until: &lateDND}, berlin
		}, dm, "2026-06-01T19:00:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceDoNotDisturb, Until: at(t, "2026-06-02T05:00:00Z").UnixMilli(), UntilLocal: "07:00"}},
		{"dms: notify anyway reaches them in a DM", func(p *backend.Preferences) { p.QuietHours, p.BreakThrough = berlin, backend.BreakThroughDMs },
			dm, "2026-06-01T21:30:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceQuietHours, Until: at(t, "2026-06-02T05:00:00Z").UnixMilli(), UntilLocal: "07:00", NotifyAnyway: true}},
		{"dms: not by a mention in a channel", func(p *backend.Preferences) { p.QuietHours, p.BreakThrough = berlin, backend.BreakThroughDMs },
			channel, "2026-06-01T21:30:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceQuietHours, Until: at(t, "2026-06-02T05:00:00Z").UnixMilli(), UntilLocal: "07:00"}},
		{"always: a mention in a channel does", func(p *backend.Preferences) { p.QuietHours, p.BreakThrough = berlin, backend.BreakThroughAlways },
			channel, "2026-06-01T21:30:00Z",
			&backend.Silence{UserID: "B", Reason: backend.SilenceQuietHours, Until: at(t, "2026-06-02T05:00:00Z").UnixMilli(), UntilLocal: "07:00", NotifyAnyway: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := backend.DefaultPreferences()
			if tt.prefs != nil {
				tt.prefs(&p)
			}
			got := backend.SilenceOf("B", &p, tt.chat, at(t, tt.now))
			switch {
			case got == nil && tt.want == nil:
			case got == nil || tt.want == nil || *got != *tt.want:
				t.Errorf("SilenceOf = %+v\nwant %+v", got, tt.want)
			}
			// What silences for a sender silences for the member's own notifications too.
			if quiet := p.SilencedBy(at(t, tt.now)) != ""; quiet != (got != nil) {
				t.Errorf("SilencedBy says silenced %v, SilenceOf %+v", quiet, got)
			}
		})
	}
}
