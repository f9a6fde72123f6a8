package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend/client"
)

// Outbox retry delays: after a failed send the sender waits outboxRetryMin, doubling up to
// outboxRetryMax, unless woken (the stream came back, a new post was queued, the machine woke).
const (
	outboxRetryMin = time.Second
	outboxRetryMax = 30 * time.Second
)

// outboxSender sends the outbox's messages in order, one at a time. A message leaves the outbox
// only after the server answered it (or rejected it for good); its clientId makes a resend after
// a lost answer or an app restart land once.
type outboxSender struct {
	store *local.Store
	post  func(context.Context, local.OutboxItem) error
	// owner names who is signed in now: only their messages are sent (others wait for them).
	owner func() string
	log   *slog.Logger
	wake  chan struct{}
	// OnRejected hears a message the server refused for good (the chat is gone, it is invalid); it
	// is dropped from the outbox.
	OnRejected func(local.OutboxItem, error)
	done       sync.WaitGroup
}

func newOutboxSender(store *local.Store, post func(context.Context, local.OutboxItem) error, owner func() string, log *slog.Logger) *outboxSender {
	return &outboxSender{store: store, post: post, owner: owner, log: log, wake: make(chan struct{}, 1),
		OnRejected: func(local.OutboxItem, error) {}}
}

// Wake makes the sender try now.
func (s *outboxSender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Wait returns when the sender started by Start has stopped.
func (s *outboxSender) Wait() { s.done.Wait() }

// Start sends in the background until ctx ends; Wait waits for that.
func (s *outboxSender) Start(ctx context.Context) {
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		s.run(ctx)
	}()
}

func (s *outboxSender) run(ctx context.Context) {
	delay := outboxRetryMin
	for {
		var timer *time.Timer
		var retry <-chan time.Time
		if s.drain(ctx) {
			delay = outboxRetryMin
		} else {
			timer = time.NewTimer(delay)
			retry = timer.C
			delay = min(2*delay, outboxRetryMax)
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-s.wake:
			delay = outboxRetryMin
		case <-retry:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// refused reports whether the server refused a message for good: a 4xx answer in the API's
// shape, other than 401 (the session ended: the message waits for the next sign-in), 408 and 429.
// Anything else — no answer, a 5xx, a captive portal's page — is tried again later.
func refused(err error) bool {
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Code == "" {
		return false
	}
	switch s := apiErr.Status; {
	case s == http.StatusUnauthorized, s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
		return false
	default:
		return s >= 400 && s < 500
	}
}

// drain sends everything queued, in order; false when a send failed and should be retried later.
func (s *outboxSender) drain(ctx context.Context) bool {
	for ctx.Err() == nil {
		items, err := s.store.Outbox()
		if err != nil {
			s.log.Error("read outbox", "err", err)
			return false
		}
		owner := s.owner()
		i := slices.IndexFunc(items, func(it local.OutboxItem) bool { return it.Owner == "" || it.Owner == owner })
		if i < 0 {
			return true // nothing of whoever is signed in; others' messages wait for them
		}
		item := items[i]
		err = s.post(ctx, item)
		switch {
		case err == nil:
			s.log.Info("sent queued message", "chat", item.ChatID, "client_id", item.ClientID)
		case !refused(err) || ctx.Err() != nil:
			s.log.Debug("outbox waits", "err", err)
			return false
		default:
			s.log.Warn("the server refused a queued message: dropped", "chat", item.ChatID, "err", err)
			s.OnRejected(item, err)
		}
		if err := s.store.RemoveFromOutbox(item.Seq); err != nil {
			s.log.Error("remove from outbox", "err", err)
			return false
		}
	}
	return false
}
