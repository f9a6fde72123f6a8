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
		SoundByKind: map[NotificationKind]string{}, Kinds: map[NotificationKind]bool{}, MutedChats: []string{}}
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
}

// Decision is whether a notification should notify (sound, toast, native notification) or only
// be recorded silently, and why — in words a user understands.
type Decision struct {
	Notify bool   `json:"notify"`
	Reason string `json:"reason"`
}

// Decide applies p to n at now. The order: a kind switched off, a muted chat (mentions still
// notify), then a critical alert that may break through, then do-not-disturb, then quiet hours.
func (p *Preferences) Decide(n Notice, now time.Time) Decision {
	if on, ok := p.Kinds[n.Kind]; ok && !on {
		return Decision{false, fmt.Sprintf("%s notifications are turned off", n.Kind)}
	}
	if n.ChatID != "" && n.Kind != KindMention && slices.Contains(p.MutedChats, n.ChatID) {
		return Decision{false, fmt.Sprintf("chat #%s is muted", n.ChatName)}
	}
	silencedBy := p.silencedBy(now)
	switch {
	case silencedBy == "":
		return Decision{true, "notifications are on"}
	case n.Critical && p.CriticalBreaksThrough:
		return Decision{true, "critical alert breaks through " + silencedBy}
	default:
		return Decision{false, silencedBy}
	}
}

// SilencedBy says in words what silences notifications at now — "do not disturb until 14:30",
// "quiet hours 22:00–07:00 (Europe/Berlin)" — or "" when nothing does (apps show it beside their
// connection state).
func (p *Preferences) SilencedBy(now time.Time) string { return p.silencedBy(now) }

// silencedBy says what silences notifications at now ("" when nothing does): do-not-disturb
// first, then quiet hours.
func (p *Preferences) silencedBy(now time.Time) string {
	loc := time.UTC
	if p.QuietHours != nil {
		if l, err := loadLocation(p.QuietHours.TimeZone); err == nil {
			loc = l
		}
	}
	if d := p.DoNotDisturb; d != nil {
		if d.Until == nil {
			return "do not disturb"
		}
		if now.Before(*d.Until) {
			return "do not disturb until " + d.Until.In(loc).Format("15:04")
		}
	}
	if q := p.QuietHours; q != nil {
		start, err1 := parseClock(q.Start)
		end, err2 := parseClock(q.End)
		if err1 == nil && err2 == nil {
			local := now.In(loc)
			m := local.Hour()*60 + local.Minute()
			inside := start < end && m >= start && m < end || start > end && (m >= start || m < end)
			if inside {
				return fmt.Sprintf("quiet hours %s–%s (%s)", q.Start, q.End, q.TimeZone)
			}
		}
	}
	return ""
}
