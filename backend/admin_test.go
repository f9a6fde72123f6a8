package backend_test

import (
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestAdminRules(t *testing.T) {
	admin := &backend.User{ID: "a", Role: backend.RoleAdmin}
	other := &backend.User{ID: "o", Role: backend.RoleAdmin}
	member := &backend.User{ID: "m", Role: backend.RoleMember}
	bot := &backend.User{ID: "b", Role: backend.RoleMember, Kind: backend.AgentBot}
	gone := &backend.User{ID: "g", Role: backend.RoleAdmin, Deactivated: true}
	code := func(err error) string { return backend.ErrorCode(err) }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"admin promotes a member", backend.CanChangeRole(admin, member, backend.RoleAdmin, 1), ""},
		{"member promotes", backend.CanChangeRole(member, member, backend.RoleAdmin, 1), backend.EFORBIDDEN},
		{"deactivated admin acts", backend.CanChangeRole(gone, member, backend.RoleAdmin, 1), backend.EFORBIDDEN},
		{"bot made admin", backend.CanChangeRole(admin, bot, backend.RoleAdmin, 1), backend.EINVALID},
		{"unknown role", backend.CanChangeRole(admin, member, "owner", 1), backend.EINVALID},
		{"last admin demoted", backend.CanChangeRole(admin, admin, backend.RoleMember, 1), backend.ECONFLICT},
		{"one of two admins demoted", backend.CanChangeRole(admin, other, backend.RoleMember, 2), ""},
		{"deactivated admin demoted", backend.CanChangeRole(admin, gone, backend.RoleMember, 1), ""},
		{"admin deactivates a member", backend.CanDeactivate(admin, member, 1), ""},
		{"admin deactivates themselves", backend.CanDeactivate(admin, admin, 2), backend.ECONFLICT},
		{"last admin deactivated", backend.CanDeactivate(other, admin, 1), backend.ECONFLICT},
		{"one of two admins deactivated", backend.CanDeactivate(other, admin, 2), ""},
		{"member deactivates", backend.CanDeactivate(member, bot, 1), backend.EFORBIDDEN},
		{"member reactivates", backend.CanReactivate(member), backend.EFORBIDDEN},
	} {
		if got := code(c.err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestMayCreateChannel(t *testing.T) {
	admin := &backend.User{Role: backend.RoleAdmin}
	member := &backend.User{Role: backend.RoleMember}
	everyone := backend.DefaultTeamSettings()
	admins := backend.TeamSettings{ChannelCreation: backend.ChannelsAdmins}
	if !backend.MayCreateChannel(everyone, member) || !backend.MayCreateChannel(admins, admin) || backend.MayCreateChannel(admins, member) ||
		backend.MayCreateChannel(everyone, &backend.User{Deactivated: true}) {
		t.Fatal("MayCreateChannel")
	}
}
