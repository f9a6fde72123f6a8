package client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
)

func TestSignInTokenWorks(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	ctx := context.Background()
	if !tm.needsSetup {
		t.Error("a new server should need setup")
	}
	if info, err := tm.anon.Server(ctx); err != nil || info.NeedsSetup {
		t.Fatalf("Server() = %+v, %v; want needsSetup false once alice exists", info, err)
	}

	token, user, err := tm.anon.SignIn(ctx, "bob", tm.bobPassword)
	if err != nil {
		t.Fatal(err)
	}
	if token == "" || user.ID != tm.bobID || user.Username != "bob" || user.DisplayName != "bob" || user.Role != backend.RoleMember {
		t.Fatalf("SignIn = %q, %+v", token, user)
	}
	bob := tm.anon.WithToken(token)
	if tm.anon.Token != "" {
		t.Error("WithToken changed the original client")
	}
	me, err := bob.Me(ctx)
	if err != nil || me.ID != tm.bobID {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	if _, err := tm.anon.Me(ctx); !client.IsUnauthorized(err) {
		t.Fatalf("Me without a token: %v, want 401", err)
	}

	// Chats, post (idempotent by clientId), history, unread.
	m1, err := tm.alice.PostMessage(ctx, tm.chat, "hello bob", "c-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := tm.alice.PostMessage(ctx, tm.chat, "hello bob", "c-1")
	if err != nil || again.ID != m1.ID {
		t.Fatalf("repeated post = %+v, %v; want the first message %s", again, err, m1.ID)
	}
	m2, err := tm.alice.PostMessage(ctx, tm.chat, "second", "")
	if err != nil || m2.ClientID != "" || m2.Content != "second" || m2.AuthorID != tm.aliceID {
		t.Fatalf("PostMessage = %+v, %v", m2, err)
	}
	chats, err := bob.Chats(ctx)
	if err != nil || len(chats) != 1 || chats[0].ID != tm.chat || chats[0].Name != "general" || chats[0].Unread != 2 {
		t.Fatalf("Chats = %+v, %v", chats, err)
	}
	if n := client.TotalUnread(chats, nil); n != 2 {
		t.Errorf("TotalUnread = %d, want 2", n)
	}
	if n := client.TotalUnread(chats, []string{tm.chat}); n != 0 {
		t.Errorf("TotalUnread with the chat muted = %d, want 0", n)
	}
	msgs, more, err := bob.Messages(ctx, tm.chat, backend.MessagePage{})
	if err != nil || more || len(msgs) != 2 || msgs[0].ID != m1.ID || msgs[1].ID != m2.ID {
		t.Fatalf("Messages = %+v, %v, %v", msgs, more, err)
	}
	msgs, more, err = bob.Messages(ctx, tm.chat, backend.MessagePage{Limit: 1})
	if err != nil || !more || len(msgs) != 1 || msgs[0].ID != m2.ID {
		t.Fatalf("Messages(limit 1) = %+v, %v, %v; want the newest and hasMore", msgs, more, err)
	}
	msgs, more, err = bob.Messages(ctx, tm.chat, backend.MessagePage{After: m1.ID})
	if err != nil || more || len(msgs) != 1 || msgs[0].ID != m2.ID {
		t.Fatalf("Messages(after m1) = %+v, %v, %v", msgs, more, err)
	}
	if err := bob.MarkRead(ctx, tm.chat, m2.ID); err != nil {
		t.Fatal(err)
	}
	if chats, err := bob.Chats(ctx); err != nil || chats[0].Unread != 0 {
		t.Fatalf("Chats after MarkRead = %+v, %v", chats, err)
	}

	// Preferences round trip.
	p, err := bob.Preferences(ctx)
	if err != nil || !p.Native || p.DoNotDisturb != nil {
		t.Fatalf("Preferences = %+v, %v", p, err)
	}
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	p.DoNotDisturb = &backend.DoNotDisturb{Until: &until}
	p.MutedChats = []string{tm.chat}
	stored, err := bob.PutPreferences(ctx, *p)
	if err != nil || stored.DoNotDisturb == nil || !stored.DoNotDisturb.Until.Equal(until) || len(stored.MutedChats) != 1 {
		t.Fatalf("PutPreferences = %+v, %v", stored, err)
	}
	if p, err := bob.Preferences(ctx); err != nil || p.DoNotDisturb == nil || !p.DoNotDisturb.Until.Equal(until) {
		t.Fatalf("Preferences after Put = %+v, %v", p, err)
	}

	// Logout ends the token.
	if err := bob.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Me(ctx); !client.IsUnauthorized(err) {
		t.Fatalf("Me after logout: %v, want 401", err)
	}
}

func TestAPIErrorsFromServer(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	ctx := context.Background()

	check := func(name string, err error, status int, code, message string) {
		t.Helper()
		var ae *client.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: error %v (%T), want *APIError", name, err, err)
		}
		if ae.Status != status || ae.Code != code || message != "" && ae.Message != message {
			t.Errorf("%s: %+v, want status %d code %q message %q", name, ae, status, code, message)
		}
		if ae.Message == "" {
			t.Errorf("%s: no message", name)
		}
		if client.ErrorCode(err) != code {
			t.Errorf("%s: ErrorCode = %q, want %q", name, client.ErrorCode(err), code)
		}
		if client.Retryable(err) {
			t.Errorf("%s: a %d rejection is not retryable", name, status)
		}
	}

	_, _, err := tm.anon.SignIn(ctx, "bob", "not-the-password")
	check("wrong password", err, http.StatusUnauthorized, backend.EUNAUTHORIZED, "Wrong username or password.")
	if !client.IsUnauthorized(err) {
		t.Error("wrong password: IsUnauthorized false")
	}
	_, err = tm.alice.PostMessage(ctx, tm.chat, "", "")
	check("empty message", err, http.StatusBadRequest, backend.EINVALID, "")
	_, err = tm.alice.PostMessage(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "hi", "")
	check("unknown chat", err, http.StatusNotFound, backend.ENOTFOUND, "")
	_, err = tm.bob.CreateInvite(ctx, 0)
	check("member invites", err, http.StatusForbidden, backend.EFORBIDDEN, "Only admins can invite.")
	_, _, err = tm.anon.Register(ctx, "", "carol", "", "password-carol")
	if ae := (*client.APIError)(nil); !errors.As(err, &ae) || ae.Status/100 != 4 {
		t.Errorf("register without invite: %v, want a 4xx", err)
	}
	p := backend.DefaultPreferences()
	p.Volume = 2
	_, err = tm.bob.PutPreferences(ctx, p)
	check("bad volume", err, http.StatusBadRequest, backend.EINVALID, "volume must be between 0 and 1.")
	if client.IsUnauthorized(err) {
		t.Error("a 400 is not unauthorized")
	}
}

func TestAPIErrorFromNonAPIAnswers(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/me":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>proxy error</html>")
		case "/api/chats":
			w.Header().Set("Retry-After", "7")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":"rate_limited","message":"Too many requests; try again in 7 s."}}`)
		default:
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>not json</html>")
		}
	}))
	defer fake.Close()
	c, err := client.New(fake.URL+"/", "tok")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	_, err = c.Me(ctx)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Code != "" || ae.Message != "Bad Gateway" {
		t.Fatalf("502 page: %#v", err)
	}
	if !client.Retryable(err) {
		t.Error("a 502 is retryable")
	}
	_, err = c.Chats(ctx)
	if !errors.As(err, &ae) || ae.Status != 429 || ae.Code != backend.ERATELIMIT || ae.RetryAfter != 7*time.Second {
		t.Fatalf("429: %#v", err)
	}
	if !client.Retryable(err) {
		t.Error("a 429 is retryable")
	}
	_, err = c.Preferences(ctx) // 200 with HTML
	if err == nil || errors.As(err, &ae) || client.Retryable(err) {
		t.Fatalf("200 with a non-JSON body: %v; want a non-retryable decoding error", err)
	}
}

func TestRetryable(t *testing.T) {
	// A port that nobody listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String()
	ln.Close()
	dead, err := client.New(deadURL, "")
	if err != nil {
		t.Fatal(err)
	}
	_, refused := dead.Server(context.Background())
	var ne *client.NetworkError
	if !errors.As(refused, &ne) {
		t.Fatalf("unreachable server: %v (%T), want *NetworkError", refused, refused)
	}

	// A server that never answers: the client's timeout.
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	impatient, err := client.New(slow.URL, "", client.WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, timedOut := impatient.Server(context.Background())
	if !errors.Is(timedOut, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v, want DeadlineExceeded in the chain", timedOut)
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, byCaller := impatient.Server(cancelled)

	// A TLS server whose certificate the client does not trust.
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	untrusting, err := client.New(tlsSrv.URL, "", client.WithHTTPClient(&http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}))
	if err != nil {
		t.Fatal(err)
	}
	_, badCert := untrusting.Server(context.Background())

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", refused, true},
		{"timeout", timedOut, true},
		{"cancelled by the caller", byCaller, false},
		{"untrusted certificate", badCert, false},
		{"500", &client.APIError{Status: 500}, true},
		{"503", &client.APIError{Status: 503, Code: backend.EUNAVAILABLE}, true},
		{"408", &client.APIError{Status: 408}, true},
		{"429", &client.APIError{Status: 429, Code: backend.ERATELIMIT}, true},
		{"400", &client.APIError{Status: 400, Code: backend.EINVALID}, false},
		{"401", &client.APIError{Status: 401, Code: backend.EUNAUTHORIZED}, false},
		{"403", &client.APIError{Status: 403}, false},
		{"404", &client.APIError{Status: 404}, false},
		{"409", &client.APIError{Status: 409}, false},
		{"wrapped 503", fmt.Errorf("outbox: %w", &client.APIError{Status: 503}), true},
		{"wrapped 400", fmt.Errorf("outbox: %w", &client.APIError{Status: 400}), false},
		{"stream ended", client.ErrStreamEnded, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"other", errors.New("something else"), false},
	} {
		if got := client.Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%s: %v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if client.IsUnauthorized(refused) || !client.IsUnauthorized(fmt.Errorf("x: %w", &client.APIError{Status: 401})) {
		t.Error("IsUnauthorized misclassifies")
	}
}

func TestNewValidatesURL(t *testing.T) {
	for _, bad := range []string{"", "localhost:8080", "ftp://host", "http://", "://x"} {
		if _, err := client.New(bad, ""); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	c, err := client.New("https://example.com/herald/?x=1#f", "t")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL.String(); got != "https://example.com/herald/" {
		t.Errorf("BaseURL = %s", got)
	}
	if c.HTTP == nil || c.HTTP.Timeout != 0 || c.Timeout != client.DefaultTimeout {
		t.Errorf("defaults: HTTP %v, Timeout %s", c.HTTP, c.Timeout)
	}
}

func TestBasePathPrefix(t *testing.T) {
	var got string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path + " " + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"needsSetup":false,"keepaliveMs":1000}`)
	}))
	defer fake.Close()
	c, err := client.New(fake.URL+"/team", "secret")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Server(context.Background())
	if err != nil || info.Keepalive() != time.Second {
		t.Fatalf("Server = %+v, %v", info, err)
	}
	if got != "/team/api/server Bearer secret" {
		t.Errorf("request = %q", got)
	}
}
