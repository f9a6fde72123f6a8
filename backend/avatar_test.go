package backend_test

import (
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestCheckAvatar(t *testing.T) {
	for _, ok := range []string{
		"", "🤖", "👩\u200d💻", "DB", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
		"https://example.com/bot.png", "https://cdn.example.com:8443/a/b.png?size=64#x",
		"https://" + strings.Repeat("a", backend.MaxAvatarURLLen-len("https://")),
	} {
		if err := backend.CheckAvatar(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
		"data:image/png;base64,iVBORw0KGgo=", "data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox", "http://example.com/a.png", "HTTPS://example.com/a.png", "ftp://x/y",
		"//evil.com/x.png", "/api/files/x", `\\evil.com\x.png`, "evil.com/x.png",
		"https://", "https:///path", "https://user:pass@example.com/a.png", "https://@example.com/",
		"https://exa mple.com/", `https://example.com\@evil.com/`, "https://[::1", "https:example.com",
		"https://" + strings.Repeat("a", backend.MaxAvatarURLLen), strings.Repeat("🤖", backend.MaxAvatarTextLen+1),
		"a:b",
	} {
		if err := backend.CheckAvatar(bad); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("%q: %v, want EINVALID", bad, err)
		}
	}
}
