package backend

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a search (GET /api/search). They are part of the API.
const (
	MaxSearchQueryLen  = 200 // bytes of q
	MaxSearchTerms     = 10  // words, prefixes and phrases of q together
	DefaultSearchLimit = 20  // results per page when the request names no limit
	MaxSearchLimit     = 50  // results per page at most
	// SnippetLen is about how many characters (runes) a result's snippet shows, "…" not counted.
	SnippetLen = 160
)

// SearchTerm is one term of a search: a word, a prefix (the word ended in '*', which is not part
// of Text) or a quoted phrase. Text is lower case; a phrase's words are separated by single
// spaces.
type SearchTerm struct {
	Text   string
	Prefix bool
	Phrase bool
}

// SearchTerms are what a message must all contain to be found, in the order the query named
// them, each once.
type SearchTerms []SearchTerm

// ParseSearchQuery reads a search box's text: words separated by white space, each of which must
// occur in a message; a word ending in '*' matches every word it begins; "quoted phrases" must
// occur as written, their words in order (a quote left open runs to the end). Matching ignores
// case. Words without a letter or digit ("-", "&") are left out, as the index never holds them.
//
// A query of more than MaxSearchQueryLen bytes or MaxSearchTerms terms, one that is not valid
// UTF-8, and one that leaves nothing to search for are EINVALID, with a message for the user.
func ParseSearchQuery(q string) (SearchTerms, error) {
	if len(q) > MaxSearchQueryLen {
		return nil, Errorf(EINVALID, "The search is %d bytes long; the limit is %d.", len(q), MaxSearchQueryLen)
	}
	if !utf8.ValidString(q) {
		return nil, Errorf(EINVALID, "The search must be valid UTF-8.")
	}
	var terms SearchTerms
	seen := map[SearchTerm]bool{}
	add := func(t SearchTerm) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		terms = append(terms, t)
		if len(terms) > MaxSearchTerms {
			return Errorf(EINVALID, "A search has at most %d words and phrases.", MaxSearchTerms)
		}
		return nil
	}
	rest := q
	for rest != "" {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		if rest[0] == '"' {
			phrase, after, _ := strings.Cut(rest[1:], `"`)
			rest = after
			words := strings.Fields(strings.ToLower(phrase))
			words = slices.DeleteFunc(words, func(w string) bool { return !hasWordRune(w) })
			switch len(words) {
			case 0:
				continue
			case 1: // a phrase of one word is that word
				if err := add(SearchTerm{Text: words[0]}); err != nil {
					return nil, err
				}
			default:
				if err := add(SearchTerm{Text: strings.Join(words, " "), Phrase: true}); err != nil {
					return nil, err
				}
			}
			continue
		}
		end := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
		if end < 0 {
			end = len(rest)
		}
		word := strings.ToLower(rest[:end])
		rest = rest[end:]
		t := SearchTerm{Text: word}
		if trimmed := strings.TrimRight(word, "*"); trimmed != word {
			// "deploy-*" is the prefix "deploy": the index holds no '-'.
			t = SearchTerm{Text: strings.TrimRightFunc(trimmed, func(r rune) bool { return !isWordRune(r) }), Prefix: true}
		}
		if !hasWordRune(t.Text) {
			continue
		}
		if err := add(t); err != nil {
			return nil, err
		}
	}
	if len(terms) == 0 {
		return nil, Errorf(EINVALID, "Search for at least one word.")
	}
	return terms, nil
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

func hasWordRune(s string) bool { return strings.IndexFunc(s, isWordRune) >= 0 }

// SearchQuery is one page of a search, as the API asks a Searcher for it.
type SearchQuery struct {
	Terms SearchTerms
	// ChatIDs are the chats searched: the caller's own (or the one chat they asked for, which the
	// caller checked is one of them). None finds nothing.
	ChatIDs []string
	// From restricts the search to one author's messages ("" for everyone's).
	From string
	// Before and After are exclusive bounds on CreatedAt, Unix ms; 0 is no bound.
	Before, After int64
	// Limit is the page size: 1 to MaxSearchLimit, DefaultSearchLimit when 0.
	Limit int
	// Cursor is the nextCursor of the page before ("" for the first page); it is opaque and
	// belongs to the Searcher that issued it.
	Cursor string
}

// SearchHit is one message a search found. The index keeps no content: the caller loads the
// message from the store.
type SearchHit struct {
	MessageID string
	ChatID    string
}

// Searcher finds messages by their words.
type Searcher interface {
	// Search returns one page of the messages that match q, newest first, and the cursor of the
	// next page ("" after the last). A malformed q.Cursor is EINVALID; an index that is not ready
	// yet (being built) is EUNAVAILABLE.
	Search(ctx context.Context, q SearchQuery) (hits []SearchHit, nextCursor string, err error)
}

// Snippet is a plain-text window of about SnippetLen characters of content around the first
// match of terms (its start a little after the window's), or content's beginning when nothing
// matches: white space runs become one space, "…" marks where the window cuts content, and it
// cuts between words — inside a word only when one word is longer than the window — never
// inside a UTF-8 sequence.
//
// Matching is on words (runs of letters and digits), ignoring case, as the index matches: a word
// term matches a whole word, a prefix the start of one, a phrase its words in a row.
func Snippet(content string, terms SearchTerms) string {
	words := splitWords(content)
	start := 0 // byte offset of the first match
	best := -1
	for _, t := range terms {
		if i := firstMatch(words, t); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best >= 0 {
		start = words[best].start
	}
	return window(content, start, SnippetLen)
}

// word is a run of letters and digits in a text: its bytes [start, end) and its lower case form.
type word struct {
	start, end int
	lower      string
}

func splitWords(s string) []word {
	var words []word
	in := -1
	for i, r := range s {
		switch {
		case isWordRune(r) && in < 0:
			in = i
		case !isWordRune(r) && in >= 0:
			words = append(words, word{in, i, strings.ToLower(s[in:i])})
			in = -1
		}
	}
	if in >= 0 {
		words = append(words, word{in, len(s), strings.ToLower(s[in:])})
	}
	return words
}

// firstMatch returns the index of the first word where t matches, -1 if none. A term's text is
// split into words as the content is, so that "e-mail" matches the words "e" "mail".
func firstMatch(words []word, t SearchTerm) int {
	var want []string
	for _, w := range splitWords(t.Text) {
		want = append(want, w.lower)
	}
	if len(want) == 0 {
		return -1
	}
	for i := 0; i+len(want) <= len(words); i++ {
		ok := true
		for j, w := range want {
			last := j == len(want)-1
			if got := words[i+j].lower; !(got == w || last && t.Prefix && strings.HasPrefix(got, w)) {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// lead is how much of the window (in runes, of SnippetLen) shows what comes before the match.
const lead = SnippetLen / 4

// window cuts about n runes of s around the match at byte offset at: lead runes before it and
// the rest after, moved to word boundaries, with white space collapsed and "…" where cut.
func window(s string, at, n int) string {
	// Rune offsets of s, so that cuts fall between runes.
	offsets := make([]int, 0, len(s)+1)
	for i := range s {
		offsets = append(offsets, i)
	}
	offsets = append(offsets, len(s))
	total := len(offsets) - 1 // runes
	atRune := 0
	for atRune < total && offsets[atRune] < at {
		atRune++
	}
	from := max(0, atRune-lead)
	to := min(total, from+n)
	if to-from < n { // near the end: show more before
		from = max(0, to-n)
	}
	lo, hi := offsets[from], offsets[to]
	// Move the cuts out of words: the start forward to the next word's beginning (not past the
	// match), the end back to the last word's end.
	if from > 0 && !isSpaceBefore(s, lo) {
		if i := strings.IndexFunc(s[lo:at], unicode.IsSpace); i >= 0 {
			lo += i
		}
	}
	if to < total && !isSpaceAt(s, hi) {
		if i := strings.LastIndexFunc(s[max(lo, at):hi], unicode.IsSpace); i >= 0 {
			hi = max(lo, at) + i
		}
	}
	out := strings.Join(strings.Fields(s[lo:hi]), " ")
	if strings.TrimSpace(s[:lo]) != "" && out != "" {
		out = "…" + out
	}
	if hi < len(s) && strings.TrimSpace(s[hi:]) != "" {
		out += "…"
	}
	return out
}

func isSpaceBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsSpace(r)
}

func isSpaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}
