package backend_test

import (
	"fmt"
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestMentions(t *testing.T) {
	tests := []struct {
		content string
		want    []string
	}{
		{"hi @bob", []string{"bob"}},
		{"@Bob and @alice, then @bob again", []string{"bob", "alice"}},
		{"thanks @bob.", []string{"bob"}},
		{"ask @j.doe-2 please", []string{"j.doe-2"}},
		{"mail bob@example.com", nil},
		{"@ alone and @x too short", nil},
		{"(@carol)", []string{"carol"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := backend.Mentions(tt.content); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Mentions(%q) = %v, want %v", tt.content, got, tt.want)
		}
	}
}
