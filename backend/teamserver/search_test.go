package teamserver_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/herald-chat/herald/backend/teamserver/teamservertest"
)

// TestSearchWired: the team server opens the search index in its data dir, feeds it from the
// store's commits and answers GET /api/search with it, across a restart.
func TestSearchWired(t *testing.T) {
	srv := teamservertest.Start(t)
	reg, chat := aliceAndAChat(t, srv)
	var posted struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	teamservertest.Call(t, "POST", srv.URL+"/api/chats/"+chat+"/messages", reg.Token, map[string]string{"content": "wired for search"}, &posted)

	search := func() []string {
		t.Helper()
		var page struct {
			Results []struct {
				Message struct {
					ID string `json:"id"`
				} `json:"message"`
				Snippet string `json:"snippet"`
			} `json:"results"`
		}
		resp := teamservertest.Call(t, "GET", srv.URL+"/api/search?"+url.Values{"q": {"wired"}}.Encode(), reg.Token, nil, &page)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("search: %d", resp.StatusCode)
		}
		var ids []string
		for _, r := range page.Results {
			ids = append(ids, r.Message.ID)
		}
		return ids
	}
	if got := search(); len(got) != 1 || got[0] != posted.Message.ID {
		t.Fatalf("found %v, want %s", got, posted.Message.ID)
	}
	srv.Stop()
	srv.Start()
	if got := search(); len(got) != 1 || got[0] != posted.Message.ID {
		t.Fatalf("after a restart: found %v, want %s", got, posted.Message.ID)
	}
}

// registered is an account's registration answer.
type registered struct {
	Token string `json:"token"`
	User  struct {
		ID string `json:"id"`
	} `json:"user"`
}

// aliceAndAChat registers alice (the first account: an admin) on srv and creates a chat of
// hers; it returns her registration and the chat's id.
func aliceAndAChat(t *testing.T, srv *teamservertest.Server) (registered, string) {
	t.Helper()
	var reg registered
	teamservertest.Call(t, "POST", srv.URL+"/api/auth/register", "", map[string]string{"username": "alice", "password": "password-alice"}, &reg)
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	teamservertest.Call(t, "POST", srv.URL+"/api/chats", reg.Token, map[string]any{"name": "general", "memberIds": []string{}}, &chat)
	return reg, chat.Chat.ID
}
