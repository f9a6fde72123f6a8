package backend_test

import (
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestInvisibleRune(t *testing.T) {
	refused := []rune{
		0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, // bidi
		0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x00ad, 0x180e, // invisible
		0x2028, 0x2029, 0x115f, 0x1160, 0x3164, 0xffa0, 0x2800, 0xe0041, 0xe007f, 0xfff9, 0x1d173,
	}
	for _, r := range refused {
		for _, name := range []string{string(r), "ab" + string(r) + "cd", "Team " + string(r)} {
			got, offset, ok := backend.InvisibleRune(name)
			if !ok || got != r || name[offset:offset+len(string(r))] != string(r) {
				t.Errorf("%q: got %U at %d (%v), want %U", name, got, offset, ok, r)
			}
		}
	}
	for _, name := range []string{
		"Alice", "Zoë Ångström", "محمد", "שלום", "日本語チーム", "ops 🚀", "Ünïcödé—names",
		"👩\u200d💻 dev",           // woman technologist
		"🏳\ufe0f\u200d🌈",         // rainbow flag: VS16 before the joiner
		"🧑🏽\u200d💻",              // skin tone before the joiner
		"❤\ufe0f\u200d🔥",         // heart on fire
		"👨\u200d👩\u200d👧\u200d👦", // family
		"🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", // England
		"1\ufe0f\u20e3", // keycap: VS16 and a combining mark, not format characters
	} {
		if r, _, ok := backend.InvisibleRune(name); ok {
			t.Errorf("%q: refused %U", name, r)
		}
	}
	for name, want := range map[string]rune{
		"a\u200db":       0x200d, // a joiner between letters hides nothing an emoji needs
		"\u200d👩":        0x200d,
		"👩\u200d":        0x200d,
		"👩\u200d\u200d💻": 0x200d,
		"🏴\U000e007f":    0xe007f, // a cancel tag without tags
		"x\U000e0067":    0xe0067, // tags outside a flag
		"🏴 \U000e0067":   0xe0067,
	} {
		if r, _, ok := backend.InvisibleRune(name); !ok || r != want {
			t.Errorf("%q: got %U (%v), want %U", name, r, ok, want)
		}
	}
}

func TestCheckNameSaysWhich(t *testing.T) {
	err := backend.CheckName("name", "evil\u202etxt.exe")
	if backend.ErrorCode(err) != backend.EINVALID ||
		backend.ErrorMessage(err) != "name must not contain invisible or direction-changing characters (U+202E)." {
		t.Fatalf("CheckName = %v", err)
	}
	if err := backend.CheckName("name", strings.Repeat("ok ", 10)); err != nil {
		t.Fatalf("plain name refused: %v", err)
	}
}
