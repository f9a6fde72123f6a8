package backend

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// NotificationKind is what a notification is about; each can be switched off and given its own
// sound.
type NotificationKind string

const (
	KindMessage NotificationKind = "message" // a new message in a chat
	KindMention NotificationKind = "mention" // @username in a message
	KindTask    NotificationKind = "task"    // a task completed
	KindAgent   NotificationKind = "agent"   // a bot's or member's status changed
	KindSystem  NotificationKind = "system"  // an admin's system notification
	KindFile    NotificationKind = "file"    // an uploaded file was processed
	KindReply   NotificationKind = "reply"   // a reply in a thread the user follows
)

// NotificationKinds lists every kind, in the order settings show them.
var NotificationKinds = []NotificationKind{KindMessage, KindMention, KindReply, KindTask, KindAgent, KindSystem, KindFile}

// Preferences are one user's notification settings. The server applies them, so every device of
// the user behaves the same.
type Preferences struct {
	Sounds bool `json:"sounds"`
	// Volume is 0..1.
	Volume float64 `json:"volume"`
	// SoundByKind names the sound per kind (clients map names to sounds); a missing kind uses the
	// client's default for it.
	SoundByKind map[NotificationKind]string `json:"soundByKind"`
	// Native enables OS (desktop) and browser notifications; toasts in the app are not affected.
	Native bool `json:"native"`
	// Kinds switches each kind on or off; a missing kind is on.
	Kinds      map[NotificationKind]bool `json:"kinds"`
	MutedChats []string                  `json:"mutedChats"`
	// DoNotDisturb silences everything (but critical alerts, if CriticalBreaksThrough) while on.
	DoNotDisturb *DoNotDisturb `json:"doNotDisturb,omitempty"`
	QuietHours   *QuietHours   `json:"quietHours,omitempty"`
	// CriticalBreaksThrough lets critical system alerts notify during do-not-disturb and quiet
	// hours.
	CriticalBreaksThrough bool `json:"criticalBreaksThrough"`
	// ToastSeconds is how long an in-app toast stays before it goes by itself (2–60 s, default
	// 6); critical alerts stay until dismissed.
	ToastSeconds int `json:"toastSeconds"`
	// BreakThrough is whose "notify anyway" (Message.NotifyAnyway) notifies the user during
	// do-not-disturb and quiet hours: nobody (BreakThroughOff, the default), people writing to
	// them in a DM, or also people mentioning them anywhere.
	BreakThrough BreakThrough `json:"breakThrough"`
}

// BreakThrough is how far a user lets senders break through their do-not-disturb and quiet
// hours ("Let people break through my quiet hours").
type BreakThrough string

const (
	BreakThroughOff    BreakThrough = "off"    // nobody: notify anyway is refused
	BreakThroughDMs    BreakThrough = "dms"    // messages in a DM the user is in
	BreakThroughAlways BreakThrough = "always" // DMs, and mentions in any chat
)

// BreakThroughs lists every BreakThrough, in the order settings show them.
var BreakThroughs = []BreakThrough{BreakThroughOff, BreakThroughDMs, BreakThroughAlways}

// BreakThroughNeeded is the least BreakThrough a recipient of kind about a message in chat must
// have set for the sender's notify anyway to notify them: BreakThroughDMs for anything in a DM,
// BreakThroughAlways for a mention elsewhere, and "" (nothing lets it through) for the other
// kinds elsewhere — a message to a whole channel or a thread's followers never breaks through,
// so the flag cannot be used to wake a crowd.
func BreakThroughNeeded(chat *Chat, kind NotificationKind) BreakThrough {
	switch {
	case chat.Kind == ChatDM && (kind == KindMessage || kind == KindMention || kind == KindReply):
		return BreakThroughDMs
	case kind == KindMention:
		return BreakThroughAlways
	default:
		return ""
	}
}

// LetsThrough reports whether p's BreakThrough admits a notify anyway that needs needed
// (BreakThroughNeeded).
func (p *Preferences) LetsThrough(needed BreakThrough) bool {
	switch needed {
	case BreakThroughDMs:
		return p.BreakThrough == BreakThroughDMs || p.BreakThrough == BreakThroughAlways
	case BreakThroughAlways:
		return p.BreakThrough == BreakThroughAlways
	default:
		return false
	}
}

// Toast duration limits and default, in seconds.
const (
	MinToastSeconds     = 2
	MaxToastSeconds     = 60
	DefaultToastSeconds = 6
)

// DoNotDisturb is on until Until, or indefinitely when Until is nil.
type DoNotDisturb struct {
	Until *time.Time `json:"until,omitempty"`
}

// QuietHours silence notifications every day from Start to End ("HH:MM", 24-hour) on the wall
// clock of TimeZone (an IANA name), so they follow daylight-saving changes. A window whose
// Start is after its End spans midnight; Start == End is an empty window.
type QuietHours struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"timeZone"`
}

// DefaultPreferences are what a user has before changing anything.
func DefaultPreferences() Preferences {
	return Preferences{Sounds: true, Volume: 0.7, Native: true, CriticalBreaksThrough: true, ToastSeconds: DefaultToastSeconds,
		BreakThrough: BreakThroughOff, SoundByKind: map[NotificationKind]string{}, Kinds: map[NotificationKind]bool{}, MutedChats: []string{}}
}

// Validate checks every field; the error is EINVALID and names the field.
func (p *Preferences) Validate() error {
	if p.Volume < 0 || p.Volume > 1 {
		return Errorf(EINVALID, "volume must be between 0 and 1.")
	}
	if p.ToastSeconds < MinToastSeconds || p.ToastSeconds > MaxToastSeconds {
		return Errorf(EINVALID, "toastSeconds must be between %d and %d.", MinToastSeconds, MaxToastSeconds)
	}
	for k := range p.Kinds {
		if !slices.Contains(NotificationKinds, k) {
			return Errorf(EINVALID, "kinds: unknown notification kind %q.", k)
		}
	}
	for k, name := range p.SoundByKind {
		if !slices.Contains(NotificationKinds, k) {
			return Errorf(EINVALID, "soundByKind: unknown notification kind %q.", k)
		}
		if len(name) == 0 || len(name) > 32 {
			return Errorf(EINVALID, "soundByKind.%s must be a sound name of 1 to 32 characters.", k)
		}
	}
	if !slices.Contains(BreakThroughs, p.BreakThrough) {
		return Errorf(EINVALID, "breakThrough must be \"off\", \"dms\" or \"always\", not %q.", p.BreakThrough)
	}
	if len(p.MutedChats) > 1000 {
		return Errorf(EINVALID, "mutedChats holds at most 1000 chats.")
	}
	if q := p.QuietHours; q != nil {
		if _, err := parseClock(q.Start); err != nil {
			return Errorf(EINVALID, "quietHours.start %q is not a time like 22:00.", q.Start)
		}
		if _, err := parseClock(q.End); err != nil {
			return Errorf(EINVALID, "quietHours.end %q is not a time like 07:00.", q.End)
		}
		if q.TimeZone == "" {
			return Errorf(EINVALID, "quietHours.timeZone is required (an IANA name like Europe/Berlin).")
		}
		if _, err := loadLocation(q.TimeZone); err != nil || q.TimeZone == "Local" {
			return Errorf(EINVALID, "quietHours.timeZone %q is not a known time zone.", q.TimeZone)
		}
	}
	return nil
}

// locations caches time.LoadLocation, which reads and parses the zone's tzdata on every call;
// decisions need the zone of every member on every post. Zones are few: the cache is unbounded.
var locations sync.Map // zone name → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}

// parseClock parses exactly "HH:MM" (00:00–23:59, two ASCII digits each: no signs, spaces or
// single digits) into minutes after midnight.
func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("clock %q: want HH:MM", s)
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	return h*60 + m, nil
}

// Notice is what the decision needs to know about one notification.
type Notice struct {
	Kind     NotificationKind
	ChatID   string // "" when not about a chat
	ChatName string
	Critical bool // a critical system alert
	// NotifyAnyway is the sender's request to notify during do-not-disturb and quiet hours
	// (Message.NotifyAnyway); it notifies only when the recipient's preferences let
	// BreakThrough through (LetsThrough). ActorName names the sender in the reason.
	NotifyAnyway bool
	BreakThrough BreakThrough
	ActorName    string
	// RecentBreakThroughs is how often the same sender's notify anyway broke through to this
	// recipient in the last BreakThroughWindow; the store counts it only for a NotifyAnyway.
	RecentBreakThroughs int
}

// A sender's notify anyway breaks through to one recipient at most MaxBreakThroughs times per
// BreakThroughWindow; beyond that their messages are recorded silently like any other, so that
// someone allowed to break through cannot keep waking a person.
const (
	MaxBreakThroughs   = 3
	BreakThroughWindow = time.Hour
)

// Decision is whether a notification should notify (sound, toast, native notification) or only
// be recorded silently, and why — in words a user understands.
type Decision struct {
	Notify bool   `json:"notify"`
	Reason string `json:"reason"`
	// BrokeThrough marks a notification that notified during do-not-disturb or quiet hours
	// because its sender chose to notify anyway and the recipient lets them; Reason says who.
	BrokeThrough bool `json:"brokeThrough,omitempty"`
}

// Decide applies p to n at now. The order: a kind switched off, a muted chat (mentions still
// notify), then a critical alert that may break through, then a sender's notify anyway that the
// user lets through, then do-not-disturb, then quiet hours. A notify anyway refused is still
// named in the reason, so the user learns that someone wanted to reach them.
func (p *Preferences) Decide(n Notice, now time.Time) Decision {
	if on, ok := p.Kinds[n.Kind]; ok && !on {
		return Decision{Notify: false, Reason: fmt.Sprintf("%s notifications are turned off", n.Kind)}
	}
	if n.ChatID != "" && n.Kind != KindMention && slices.Contains(p.MutedChats, n.ChatID) {
		return Decision{Notify: false, Reason: fmt.Sprintf("chat #%s is muted", n.ChatName)}
	}
	silencedBy, what := p.silence(now)
	switch {
	case silencedBy == "":
		return Decision{Notify: true, Reason: "notifications are on"}
	case n.Critical && p.CriticalBreaksThrough:
		return Decision{Notify: true, Reason: "critical alert breaks through " + silencedBy}
	case n.NotifyAnyway && p.LetsThrough(n.BreakThrough) && n.RecentBreakThroughs >= MaxBreakThroughs:
		return Decision{Notify: false, Reason: fmt.Sprintf("%s; %s asked to notify you anyway, more than %d times in an hour",
			silencedBy, n.ActorName, MaxBreakThroughs)}
	case n.NotifyAnyway && p.LetsThrough(n.BreakThrough):
		return Decision{Notify: true, Reason: fmt.Sprintf("%s chose to notify you during your %s", n.ActorName, what),
			BrokeThrough: true}
	case n.NotifyAnyway:
		return Decision{Notify: false, Reason: fmt.Sprintf("%s; %s asked to notify you anyway", silencedBy, n.ActorName)}
	default:
		return Decision{Notify: false, Reason: silencedBy}
	}
}

// SilencedBy says in words what silences notifications at now — "do not disturb until 14:30",
// "quiet hours 22:00–07:00 (Europe/Berlin)" — or "" when nothing does (apps show it beside their
// connection state).
func (p *Preferences) SilencedBy(now time.Time) string { return p.silencedBy(now) }

// silencedBy says what silences notifications at now ("" when nothing does): do-not-disturb
// first, then quiet hours.
func (p *Preferences) silencedBy(now time.Time) string {
	s, _ := p.silence(now)
	return s
}

// silence is silencedBy and, when something silences, what in two words for a sentence: "do not
// disturb" or "quiet hours".
func (p *Preferences) silence(now time.Time) (silencedBy, what string) {
	loc := p.location()
	if d := p.DoNotDisturb; d != nil {
		if d.Until == nil {
			return "do not disturb", "do not disturb"
		}
		if now.Before(*d.Until) {
			return "do not disturb until " + d.Until.In(loc).Format("15:04"), "do not disturb"
		}
	}
	if q := p.QuietHours; q != nil && p.quietEnd(now) != nil {
		return fmt.Sprintf("quiet hours %s–%s (%s)", q.Start, q.End, q.TimeZone), "quiet hours"
	}
	return "", ""
}

// location is the user's time zone: QuietHours.TimeZone, UTC without quiet hours.
func (p *Preferences) location() *time.Location {
	if p.QuietHours != nil {
		if l, err := loadLocation(p.QuietHours.TimeZone); err == nil {
			return l
		}
	}
	return time.UTC
}

// quietEnd is when the quiet hours p is in at t end (the first End on the wall clock of their
// zone after t), nil when t is outside them (or they are malformed).
func (p *Preferences) quietEnd(t time.Time) *time.Time {
	q := p.QuietHours
	if q == nil {
		return nil
	}
	start, err1 := parseClock(q.Start)
	end, err2 := parseClock(q.End)
	if err1 != nil || err2 != nil {
		return nil
	}
	loc := p.location()
	local := t.In(loc)
	m := local.Hour()*60 + local.Minute()
	inside := start < end && m >= start && m < end || start > end && (m >= start || m < end)
	if !inside {
		return nil
	}
	y, mo, d := local.Date()
	e := time.Date(y, mo, d, end/60, end%60, 0, 0, loc)
	if !e.After(t) {
		e = time.Date(y, mo, d+1, end/60, end%60, 0, 0, loc)
	}
	return &e
}

// SilenceReason is what keeps a user from being notified: SilenceDoNotDisturb or
// SilenceQuietHours.
type SilenceReason string

const (
	SilenceDoNotDisturb SilenceReason = "doNotDisturb"
	SilenceQuietHours   SilenceReason = "quietHours"
)

// Silence is what a sender is told about a member whose do-not-disturb or quiet hours are on:
// which, until when, and whether a notify anyway would reach them. It says nothing else of their
// preferences: not their quiet hours' window, nor their time zone's name.
type Silence struct {
	UserID string        `json:"userId"`
	Reason SilenceReason `json:"reason"`
	// Until is when the silence ends (Unix ms), 0 for do-not-disturb without an end. A
	// do-not-disturb that ends inside quiet hours lasts, here, until they end.
	Until int64 `json:"until,omitempty"`
	// UntilLocal is Until on the member's own wall clock, "07:00" ("" when Until is 0): in the
	// zone of their quiet hours, UTC without quiet hours.
	UntilLocal string `json:"untilLocal,omitempty"`
	// NotifyAnyway says whether a message sent with notifyAnyway would notify them: their
	// BreakThrough lets through what BreakThroughNeeded says this chat's messages need (a DM, or
	// a mention elsewhere).
	NotifyAnyway bool `json:"notifyAnyway"`
}

// SilenceOf is what a sender in chat may know about userID, whose preferences are p, at now;
// nil when nothing silences them.
func SilenceOf(userID string, p *Preferences, chat *Chat, now time.Time) *Silence {
	s := &Silence{UserID: userID, NotifyAnyway: p.LetsThrough(BreakThroughNeeded(chat, KindMention))}
	var until *time.Time
	switch d := p.DoNotDisturb; {
	case d != nil && d.Until == nil:
		s.Reason = SilenceDoNotDisturb
	case d != nil && now.Before(*d.Until):
		s.Reason, until = SilenceDoNotDisturb, d.Until
		if e := p.quietEnd(*until); e != nil {
			until = e
		}
	default:
		if until = p.quietEnd(now); until == nil {
			return nil
		}
		s.Reason = SilenceQuietHours
	}
	if until != nil {
		s.Until, s.UntilLocal = until.UnixMilli(), until.In(p.location()).Format("15:04")
	}
	return s
}
