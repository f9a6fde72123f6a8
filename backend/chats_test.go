package backend_test

import (
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestChatRules(t *testing.T) {
	admin := &backend.User{ID: "A", Role: backend.RoleAdmin}
	owner := &backend.User{ID: "O", Role: backend.RoleMember}
	member := &backend.User{ID: "M", Role: backend.RoleMember}
	outsider := &backend.User{ID: "X", Role: backend.RoleMember}
	chat := func(kind backend.ChatKind, archived bool) *backend.Chat {
		c := &backend.Chat{ID: "C", Kind: kind, MemberIDs: []string{"O", "M"}, OwnerIDs: []string{"O"}, Archived: archived}
		if kind == backend.ChatDM {
			c.OwnerIDs = []string{}
		}
		return c
	}
	tests := []struct {
		kind        backend.ChatKind
		archived    bool
		who         *backend.User
		manage, add string // error codes, "" for allowed
	}{
		{backend.ChatChannel, false, owner, "", ""},
		{backend.ChatChannel, false, admin, "", ""},
		{backend.ChatChannel, false, member, backend.EFORBIDDEN, backend.EFORBIDDEN},
		{backend.ChatChannel, false, outsider, backend.EFORBIDDEN, backend.EFORBIDDEN},
		{backend.ChatPrivate, false, member, backend.EFORBIDDEN, ""},
		{backend.ChatPrivate, false, outsider, backend.EFORBIDDEN, backend.EFORBIDDEN},
		{backend.ChatPrivate, false, admin, "", ""},
		{backend.ChatPrivate, true, owner, "", backend.ECONFLICT},
		{backend.ChatDM, false, member, backend.EINVALID, backend.EINVALID},
		{backend.ChatDM, false, admin, backend.EINVALID, backend.EINVALID},
	}
	for _, tt := range tests {
		c := chat(tt.kind, tt.archived)
		if got := backend.ErrorCode(backend.MayManageChat(c, tt.who)); got != tt.manage {
			t.Errorf("MayManageChat(%s archived=%v, %s) = %q, want %q", tt.kind, tt.archived, tt.who.ID, got, tt.manage)
		}
		if got := backend.ErrorCode(backend.MayAddMember(c, tt.who)); got != tt.add {
			t.Errorf("MayAddMember(%s archived=%v, %s) = %q, want %q", tt.kind, tt.archived, tt.who.ID, got, tt.add)
		}
	}
}

func TestApplyChatChange(t *testing.T) {
	str := func(s string) *string { return &s }
	yes, no := true, false
	base := func() *backend.Chat {
		return &backend.Chat{Kind: backend.ChatChannel, Name: "dev", MemberIDs: []string{"O", "M"}, OwnerIDs: []string{"O"}}
	}
	tests := []struct {
		name    string
		chat    func() *backend.Chat
		change  backend.ChatChange
		changed bool
		code    string
	}{
		{"rename", base, backend.ChatChange{Name: str("ops")}, true, ""},
		{"same name", base, backend.ChatChange{Name: str("dev")}, false, ""},
		{"add an owner", base, backend.ChatChange{OwnerIDs: []string{"M", "O"}}, true, ""},
		{"same owners", base, backend.ChatChange{OwnerIDs: []string{"O", "O"}}, false, ""},
		{"no owners", base, backend.ChatChange{OwnerIDs: []string{}}, false, backend.EINVALID},
		{"owner not a member", base, backend.ChatChange{OwnerIDs: []string{"X"}}, false, backend.EINVALID},
		{"archive", base, backend.ChatChange{Archived: &yes}, true, ""},
		{"rename archived", func() *backend.Chat { c := base(); c.Archived = true; return c }, backend.ChatChange{Name: str("x")}, false, backend.ECONFLICT},
		{"unarchive and rename", func() *backend.Chat { c := base(); c.Archived = true; return c }, backend.ChatChange{Name: str("x"), Archived: &no}, true, ""},
		{"dm topic", func() *backend.Chat { return &backend.Chat{Kind: backend.ChatDM, MemberIDs: []string{"O", "M"}} }, backend.ChatChange{Topic: str("t")}, true, ""},
		{"dm name", func() *backend.Chat { return &backend.Chat{Kind: backend.ChatDM, MemberIDs: []string{"O", "M"}} }, backend.ChatChange{Name: str("t")}, false, backend.EINVALID},
	}
	for _, tt := range tests {
		c := tt.chat()
		changed, err := backend.ApplyChatChange(c, tt.change)
		if changed != tt.changed || backend.ErrorCode(err) != tt.code {
			t.Errorf("%s: changed=%v err=%v, want %v %q", tt.name, changed, err, tt.changed, tt.code)
		}
	}
	c := base()
	if _, err := backend.ApplyChatChange(c, backend.ChatChange{OwnerIDs: []string{"M", "O"}}); err != nil || c.OwnerIDs[0] != "O" || c.OwnerIDs[1] != "M" {
		t.Errorf("owners keep their order, new ones after: %v %v", c.OwnerIDs, err)
	}
}

func TestDMKeyAndNormalize(t *testing.T) {
	if a, b := backend.DMKey([]string{"B", "A", "B"}), backend.DMKey([]string{"A", "B"}); a != b || a != "A,B" {
		t.Errorf("DMKey: %q %q", a, b)
	}
	old := &backend.Chat{Name: "ops", CreatedBy: "U"}
	backend.NormalizeChat(old)
	if old.Kind != backend.ChatPrivate || len(old.OwnerIDs) != 1 || old.OwnerIDs[0] != "U" {
		t.Errorf("old chat normalized to %+v", *old)
	}
	dm := &backend.Chat{Kind: backend.ChatDM, CreatedBy: "U"}
	backend.NormalizeChat(dm)
	if dm.OwnerIDs == nil || len(dm.OwnerIDs) != 0 {
		t.Errorf("dm owners %v", dm.OwnerIDs)
	}
	if backend.ChatNameKey(" General ") != "general" {
		t.Error("ChatNameKey")
	}
}
