package bolt_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestPreferencesDefaultSetAndPublished(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	got, err := e.s.Preferences(e.ctx, alice.ID)
	wantNoError(t, err, "Preferences")
	if !reflect.DeepEqual(got, backend.DefaultPreferences()) {
		t.Fatalf("before any change: %+v, want the defaults", got)
	}

	p := backend.DefaultPreferences()
	p.Sounds = false
	p.QuietHours = &backend.QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"}
	p.MutedChats = []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV"}
	wantNoError(t, e.s.SetPreferences(e.ctx, alice.ID, p), "SetPreferences")

	e.reopen()
	got, err = e.s.Preferences(e.ctx, alice.ID)
	wantNoError(t, err, "Preferences after reopen")
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("after reopen: %+v, want %+v", got, p)
	}
}

func TestSetPreferencesEmitsAPersonalEvent(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	e.chat("general", alice)
	before := e.lastEventID()
	published := e.pub.Len()
	p := backend.DefaultPreferences()
	p.Volume = 0.2
	wantNoError(t, e.s.SetPreferences(e.ctx, alice.ID, p), "SetPreferences")
	evs := e.pub.Events()[published:]
	if len(evs) != 1 {
		t.Fatalf("published %d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Type != backend.EventPreferencesChanged || !ev.Personal || !slices.Equal(ev.Recipients, []string{alice.ID}) ||
		ev.Preferences == nil || ev.Preferences.Volume != 0.2 || ev.ID == "" {
		t.Fatalf("event %+v", ev)
	}
	// It is logged like every durable event, recipients included, so a resuming stream gets it.
	logged := e.eventsAfter(before)
	if len(logged) != 1 || logged[0].ID != ev.ID || !logged[0].Personal ||
		!slices.Equal(logged[0].Recipients, []string{alice.ID}) || logged[0].Preferences.Volume != 0.2 {
		t.Fatalf("logged %+v", logged)
	}
	wantCode(t, e.s.SetPreferences(e.ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", p), backend.ENOTFOUND)
}
