package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Search limits.
const (
	// searchWait bounds how long a search waits for the index to hold every message committed
	// before it began (edits and deletions included). Past it the search answers from what the
	// index holds: results stay true to the store (they are loaded from it), but an edit or a
	// message of the last moments may be missed.
	searchWait = 2 * time.Second
	// maxSearchCursor bounds the cursor parameter (bytes).
	maxSearchCursor = 512
)

// Defaults of Config.Searches: searches per user.
const (
	DefaultSearchBurst = 20
	DefaultSearchRate  = 5 // per second
)

// searchLimitFor is Config.Searches with its defaults.
func searchLimitFor(l Limit) Limit {
	return l.withDefault(Limit{DefaultSearchBurst, time.Second / DefaultSearchRate})
}

// searchWaiter is a Searcher that can wait until it holds every event up to eventID
// (search.Index does): WaitFor returns ctx's error when ctx ends first.
type searchWaiter interface {
	WaitFor(ctx context.Context, eventID string) error
}

// searchMessages loads a page of hits in one read (the bolt store implements it): out[i] is
// hits[i]'s message, nil when there is none. A store without it is asked Message by Message.
type searchMessages interface {
	MessagesByID(ctx context.Context, hits []backend.SearchHit) ([]*backend.Message, error)
}

// searchResult is one entry of GET /api/search's results.
type searchResult struct {
	Message *backend.Message `json:"message"`
	ChatID  string           `json:"chatId"`
	Snippet string           `json:"snippet"`
}

// search answers GET /api/search?q=…&chatId=&from=&before=&after=&limit=&cursor=: the messages
// of u's chats (or of chatId, one of them: 403 otherwise, 404 for no such chat) that hold every
// term of q, newest first, each with a snippet around its first match. before and after are
// exclusive bounds, Unix ms or a date (YYYY-MM-DD), which stands for its midnight UTC: after=D
// includes day D, before=D excludes it. Hits the store no longer has, tombstones and messages of
// chats u is not in are left out, so a page may hold fewer than limit.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if h.cfg.Search == nil {
		return backend.Errorf(backend.EUNAVAILABLE, "Search is not available on this server.")
	}
	q := r.URL.Query()
	terms, err := backend.ParseSearchQuery(q.Get("q"))
	if err != nil {
		return err
	}
	sq := backend.SearchQuery{Terms: terms, From: q.Get("from"), Cursor: q.Get("cursor")}
	if sq.From != "" {
		if err := validID("from", sq.From); err != nil {
			return err
		}
	}
	if sq.Before, err = searchTime(q, "before"); err != nil {
		return err
	}
	if sq.After, err = searchTime(q, "after"); err != nil {
		return err
	}
	if sq.Limit, err = searchPageLimit(q); err != nil {
		return err
	}
	if len(sq.Cursor) > maxSearchCursor {
		return backend.Errorf(backend.EINVALID, "cursor is not one this server issued.")
	}
	chatID := q.Get("chatId")
	if chatID != "" {
		if err := validID("chatId", chatID); err != nil {
			return err
		}
	}
	// Taken after validation, as for messages: a malformed search costs nothing.
	if ok, wait := h.searchLimit.allow(u.ID); !ok {
		return tooManyBecause(w, wait, "You are searching too fast")
	}
	ctx := r.Context()
	chats, err := h.reads.ChatsOf(ctx, u.ID)
	if err != nil {
		return err
	}
	member := make(map[string]bool, len(chats))
	for _, c := range chats {
		member[c.ID] = true
		if chatID == "" {
			sq.ChatIDs = append(sq.ChatIDs, c.ID)
		}
	}
	if chatID != "" {
		if !member[chatID] {
			if _, err := h.reads.Chat(ctx, chatID); err != nil {
				return err
			}
			return backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
		}
		sq.ChatIDs = []string{chatID}
	}
	results := []searchResult{}
	next := ""
	if len(sq.ChatIDs) > 0 {
		if err := h.waitForIndex(ctx); err != nil {
			return err
		}
		hits, cursor, err := h.cfg.Search.Search(ctx, sq)
		if err != nil {
			return err
		}
		msgs, err := h.searchedMessages(ctx, hits)
		if err != nil {
			return err
		}
		for i, m := range msgs {
			if m == nil || m.Deleted || !member[m.ChatID] || m.ChatID != hits[i].ChatID {
				continue
			}
			results = append(results, searchResult{Message: m, ChatID: m.ChatID, Snippet: backend.Snippet(m.Content, terms)})
		}
		next = cursor
	}
	body := map[string]any{"results": results}
	if next != "" {
		body["nextCursor"] = next
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// waitForIndex waits (at most searchWait) until the index holds every event committed before
// now, when the Searcher can tell. Running out of time is logged, not an error.
func (h *Handler) waitForIndex(ctx context.Context) error {
	waiter, ok := h.cfg.Search.(searchWaiter)
	if !ok {
		return nil
	}
	last, err := h.reads.LastEventID(ctx)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, searchWait)
	defer cancel()
	err = waiter.WaitFor(wctx, last)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		h.log.WarnContext(ctx, "search index behind the log; answering from what it holds", "wait", searchWait, "event", last)
		return nil
	}
	return err
}

// searchedMessages loads the hits' messages from the store: nil for a hit it does not have.
func (h *Handler) searchedMessages(ctx context.Context, hits []backend.SearchHit) ([]*backend.Message, error) {
	if loader, ok := h.reads.(searchMessages); ok {
		return loader.MessagesByID(ctx, hits)
	}
	out := make([]*backend.Message, len(hits))
	for i, hit := range hits {
		m, err := h.reads.Message(ctx, hit.ChatID, hit.MessageID)
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// searchTime reads a bound: "" is none (0), digits are Unix ms, YYYY-MM-DD is that day's
// midnight UTC.
func searchTime(q url.Values, field string) (int64, error) {
	s := q.Get(field)
	if s == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
		return ms, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil && t.UnixMilli() > 0 {
		return t.UnixMilli(), nil
	}
	return 0, backend.Errorf(backend.EINVALID, "%s must be a date (YYYY-MM-DD) or Unix milliseconds.", field)
}

// searchPageLimit reads limit: DefaultSearchLimit when absent, else 1 to MaxSearchLimit.
func searchPageLimit(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return backend.DefaultSearchLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > backend.MaxSearchLimit {
		return 0, backend.Errorf(backend.EINVALID, "limit must be a number from 1 to %d.", backend.MaxSearchLimit)
	}
	return n, nil
}
