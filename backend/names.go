package backend

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// InvisibleRune returns the first rune of s that would hide text or change its direction in a
// name, with its byte offset; ok is false when there is none. Names (display names, chat, bot
// and team names, other one-line labels) are shown next to other people's text, where a U+202E
// RIGHT-TO-LEFT OVERRIDE would reverse what follows it and a zero-width space would make two
// names look alike. Refused:
//
//   - every format character (Unicode category Cf): the bidi controls U+061C, U+200E, U+200F,
//     U+202A–U+202E, U+2066–U+2069, and the invisible U+00AD, U+180E, U+200B–U+200D,
//     U+2060–U+2064, U+FEFF, tag characters and the rest of Cf;
//   - line and paragraph separators (U+2028, U+2029);
//   - the blank letters that render as nothing: Hangul fillers U+115F, U+1160, U+3164, U+FFA0
//     and U+2800 BRAILLE PATTERN BLANK.
//
// Except where an emoji needs them: U+200D ZERO WIDTH JOINER between two emoji (👩‍💻, 🏳️‍🌈,
// 🧑🏽‍💻), and the tag characters of a subdivision flag (🏴 followed by tags up to U+E007F).
// Message bodies are not checked: clients show them isolated (<bdi>, dir="auto").
func InvisibleRune(s string) (r rune, offset int, ok bool) {
	var prev rune = -1
	inFlag := false // after 🏴 U+1F3F4 and within its tag characters
	for i, c := range s {
		allowed := false
		switch {
		case c == zwj:
			next, size := utf8.DecodeRuneInString(s[i+utf8.RuneLen(c):])
			allowed = emojiBefore(prev) && size > 0 && isEmoji(next)
		case c >= 0xe0020 && c <= 0xe007e:
			allowed = inFlag
		case c == 0xe007f: // CANCEL TAG ends the flag
			allowed = inFlag && prev != 0x1f3f4
		}
		if !allowed && invisible(c) {
			return c, i, true
		}
		inFlag = c == 0x1f3f4 || inFlag && c >= 0xe0020 && c <= 0xe007e
		prev = c
	}
	return 0, 0, false
}

const zwj = '\u200d'

func invisible(c rune) bool {
	switch c {
	case '\u2028', '\u2029', '\u115f', '\u1160', '\u3164', '\uffa0', '\u2800':
		return true
	}
	return unicode.Is(unicode.Cf, c)
}

// isEmoji: a pictographic symbol (category So: 👩 💻 🌈 ❤ 🔥 🦰).
func isEmoji(c rune) bool { return c > 0x7f && c != utf8.RuneError && unicode.Is(unicode.So, c) }

// emojiBefore: what may end the emoji before a joiner: the emoji itself, a skin tone modifier
// (U+1F3FB–U+1F3FF) or the emoji presentation selector U+FE0F.
func emojiBefore(c rune) bool {
	return isEmoji(c) || c >= 0x1f3fb && c <= 0x1f3ff || c == '\ufe0f'
}

// CheckName returns an EINVALID error naming field and the first rune InvisibleRune finds in s,
// or nil.
func CheckName(field, s string) error {
	if r, _, ok := InvisibleRune(s); ok {
		return Errorf(EINVALID, "%s must not contain invisible or direction-changing characters (%s).", field, runeName(r))
	}
	return nil
}

func runeName(r rune) string { return fmt.Sprintf("U+%04X", r) }
