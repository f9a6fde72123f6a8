// The app's own subscription to the user's stream: native notifications, the unread badge, the
// offline history cache, the stream position, the outbox's sends.

package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
)

// streamRestartDelay is how long the app waits before subscribing again after its stream stopped
// for a reason other than the session ending (e.g. a proxy in front of the server answered 403
// or 404 during a deploy); a wake-up or network change restarts it at once.
const streamRestartDelay = client.DefaultBackoffMax

// streamRun is one subscription: its stream, how to stop it, and when it has stopped.
type streamRun struct {
	s      *client.Stream
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
	kick   chan struct{} // restarts a stopped run at once
}

// startStream (re)subscribes to the user's stream, resuming after the last event it saw.
func (a *App) startStream() {
	a.stopStream()
	c := a.apiClient()
	if c == nil {
		return
	}
	last, _ := a.store.LastEventID()
	ctx, cancel := context.WithCancel(a.ctx)
	run := &streamRun{cancel: cancel, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	// Callbacks of a run that was replaced (sign-out, another user) are dropped: they would show
	// a stale state or the previous user's notifications.
	current := func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.run == run
	}
	run.s = c.NewStream(client.StreamOptions{
		LastEventID: last,
		OnEvent: func(ev *backend.Event) {
			if current() {
				a.onEvent(ev)
			}
		},
		OnState: func(st client.State) {
			if current() {
				a.onStreamState(st)
			}
		},
		OnError: func(err error) { a.log.Debug("stream", "err", err) },
	})
	a.mu.Lock()
	a.run = run
	a.mu.Unlock()
	go func() {
		defer close(run.done)
		err := run.s.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		if client.IsUnauthorized(err) {
			a.log.Info("the server ended the session")
			go a.SignedOut() // it stops this run, which must have returned first
			return
		}
		a.log.Error("stream stopped; subscribing again later", "err", err, "in", streamRestartDelay)
		a.setState(StateReconnecting)
		t := time.NewTimer(streamRestartDelay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-run.kick:
		}
		if current() {
			go a.startStream()
		}
	}()
}

// stopStream ends the subscription, waits for it, and saves where it got to.
func (a *App) stopStream() {
	a.mu.Lock()
	run := a.run
	a.run = nil
	a.mu.Unlock()
	if run == nil {
		return
	}
	run.cancel()
	<-run.done
	a.savePosition(run.s)
}

// kick reconnects the stream at once (after sleep or a network change) and retries the outbox.
func (a *App) kick() {
	a.mu.Lock()
	run := a.run
	a.mu.Unlock()
	if run != nil {
		run.s.Kick()
		select {
		case run.kick <- struct{}{}:
		default:
		}
	}
	a.proxy.CloseIdleConnections()
	a.outbox.Wake()
}

func (a *App) onStreamState(st client.State) {
	var state ConnState
	switch st {
	case client.Live:
		state = StateLive
	case client.Reconnecting:
		state = StateReconnecting
	default:
		state = StateConnecting
	}
	if state == StateLive {
		a.router.Reconnected() // what arrives first is the replay of what was missed
		a.outbox.Wake()
		go a.refreshPreferences()
		go a.refreshTeam()
		a.scheduleUnread()
	}
	a.setState(state)
}

func (a *App) onEvent(ev *backend.Event) {
	if ev.Notification != nil {
		a.routeNotification(ev.Notification)
	}
	switch ev.Type {
	case backend.EventPreferencesChanged:
		if ev.Preferences != nil {
			a.setPreferences(ev.Preferences)
		}
		a.scheduleUnread()
	case backend.EventNewMessage, backend.EventChatUpdated, backend.EventResync:
		a.scheduleUnread()
	case backend.EventTeamUpdated:
		if ev.Team != nil {
			a.setTeamName(ev.Team.Name)
		}
	}
}

// refreshTeam reads the team's name from the server (on every connect: a rename while the app
// was away is not missed, and a joined team is named as its admins named it, not by its host).
func (a *App) refreshTeam() {
	c := a.apiClient()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 20*time.Second)
	defer cancel()
	team, err := c.Team(ctx)
	if err != nil {
		a.log.Debug("team settings", "err", err)
		return
	}
	a.setTeamName(team.Name)
}

// setTeamName makes name the team's name in the profile, the tray tooltip and the window title;
// "" and the name it has already change nothing.
func (a *App) setTeamName(name string) {
	a.mu.Lock()
	if name == "" || a.profile.TeamName == name {
		a.mu.Unlock()
		return
	}
	a.profile.TeamName = name
	p := a.profile
	a.mu.Unlock()
	if err := a.store.SaveProfile(p); err != nil {
		a.log.Error("save profile", "err", err)
	}
	a.updateView(func(v *TrayView) { v.Team = name })
}

func (a *App) routeNotification(n *backend.Notification) {
	a.router.Route(n)
}

// summarize cuts s to at most n runes, marking the cut.
func summarize(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// notifierFunc adapts a function to Notifier.
type notifierFunc func(Note) error

func (f notifierFunc) Notify(n Note) error { return f(n) }

// notifyFailed logs the first failure to raise a native notification (no daemon, no bus) and
// stays quiet after that: the app runs on with its in-window toasts.
func (a *App) notifyFailed() func(error) {
	var once sync.Once
	return func(err error) {
		a.nativeFailures.Add(1)
		once.Do(func() {
			a.log.Warn("native notifications are unavailable", "err", err)
			a.out.printf("no native notifications: %v", err)
		})
	}
}

func (a *App) refreshPreferences() {
	c := a.apiClient()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 20*time.Second)
	defer cancel()
	p, err := c.Preferences(ctx)
	if err != nil || p == nil {
		a.log.Debug("preferences", "err", err)
		return
	}
	a.setPreferences(p)
	a.scheduleUnread()
}

func (a *App) setPreferences(p *backend.Preferences) {
	a.mu.Lock()
	a.prefs = p
	a.mu.Unlock()
	a.router.SetNative(p.Native)
	a.refreshSilenced()
}

// refreshSilenced shows in the tooltip what silences notifications now; called when the
// preferences change and every second, so that do-not-disturb and quiet hours end on time there.
func (a *App) refreshSilenced() {
	a.mu.Lock()
	p := a.prefs
	signedIn := a.profile.Token != ""
	a.mu.Unlock()
	text := ""
	if p != nil && signedIn {
		text = p.SilencedBy(time.Now())
	}
	a.mu.Lock()
	same := a.view.Silenced == text
	a.mu.Unlock()
	if !same {
		a.updateView(func(v *TrayView) { v.Silenced = text })
	}
}

// scheduleUnread recounts the unread messages shortly: bursts of events cost one request.
func (a *App) scheduleUnread() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unreadTimer != nil {
		a.unreadTimer.Stop()
	}
	a.unreadTimer = time.AfterFunc(250*time.Millisecond, a.recountUnread)
}

// recountUnread asks the server for the absolute unread count, muted chats excluded.
func (a *App) recountUnread() {
	c := a.apiClient()
	if c == nil || a.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 20*time.Second)
	defer cancel()
	chats, err := c.Chats(ctx)
	if err != nil {
		a.log.Debug("unread count", "err", err)
		return
	}
	a.mu.Lock()
	var muted []string
	if a.prefs != nil {
		muted = a.prefs.MutedChats
	}
	a.mu.Unlock()
	n := client.TotalUnread(chats, muted)
	a.updateView(func(v *TrayView) { v.Unread = n })
	a.cacheHistory(ctx, c, chats)
}

// historyPageSize is the web client's page of messages (PAGE_SIZE in src/state/ChatStore.ts): the
// app caches each chat's latest page under the request the page makes for it.
const historyPageSize = 50

// cacheHistory keeps the latest page of every chat whose newest message changed, so that each chat
// can be read offline — also chats the window has not opened yet.
func (a *App) cacheHistory(ctx context.Context, c *client.Client, chats []*backend.ChatSummary) {
	for _, chat := range chats {
		a.mu.Lock()
		cached := a.historyCached[chat.ID]
		a.mu.Unlock()
		if chat.LastMessageID == "" || chat.LastMessageID == cached {
			continue
		}
		query := url.Values{"limit": {strconv.Itoa(historyPageSize)}}
		var page json.RawMessage
		path := "/api/chats/" + chat.ID + "/messages"
		if err := c.Do(ctx, http.MethodGet, path, query, nil, &page); err != nil {
			a.log.Debug("cache history", "chat", chat.ID, "err", err)
			return
		}
		entry := local.Cached{Body: page, ContentType: "application/json; charset=utf-8", StoredAt: time.Now()}
		if err := a.store.PutCached(path+"?"+query.Encode(), entry); err != nil {
			a.log.Warn("cache history", "chat", chat.ID, "err", err)
			return
		}
		a.mu.Lock()
		a.historyCached[chat.ID] = chat.LastMessageID
		a.mu.Unlock()
	}
}

// housekeeping runs once a second: it saves the stream's position when it moved, so a restart
// resumes (and does not notify again) without an fsync per event, and keeps the tooltip's
// do-not-disturb / quiet-hours note current.
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.saveLastEventID()
			a.refreshSilenced()
		}
	}
}

func (a *App) saveLastEventID() {
	a.mu.Lock()
	run := a.run
	a.mu.Unlock()
	if run != nil {
		a.savePosition(run.s)
	}
}

// savePosition stores s's last event id when it moved since the last save.
func (a *App) savePosition(s *client.Stream) {
	a.mu.Lock()
	saved := a.lastIDSaved
	a.mu.Unlock()
	id := s.LastEventID()
	if id == "" || id == saved {
		return
	}
	if err := a.store.SetLastEventID(id); err != nil {
		a.log.Warn("save stream position", "err", err)
		return
	}
	a.mu.Lock()
	a.lastIDSaved = id
	a.mu.Unlock()
}

// postQueued sends one message from the outbox with the current team's client.
func (a *App) postQueued(ctx context.Context, item local.OutboxItem) error {
	c := a.apiClient()
	if c == nil {
		return errNotSignedIn
	}
	return sendQueued(ctx, c, item)
}

// sendQueued posts an outbox item as what it is: a message, or a reply in its thread.
func sendQueued(ctx context.Context, c *client.Client, item local.OutboxItem) error {
	_, err := c.Post(ctx, &backend.Message{ChatID: item.ChatID, Content: item.Content, ClientID: item.ClientID,
		ParentID: item.ParentID, AlsoToChat: item.AlsoToChat, NotifyAnyway: item.NotifyAnyway})
	return err
}

var errNotSignedIn = errors.New("not signed in")
