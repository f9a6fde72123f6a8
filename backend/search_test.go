package backend_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/herald-chat/herald/backend"
)

func TestParseSearchQuery(t *testing.T) {
	w := func(s string) backend.SearchTerm { return backend.SearchTerm{Text: s} }
	p := func(s string) backend.SearchTerm { return backend.SearchTerm{Text: s, Prefix: true} }
	ph := func(s string) backend.SearchTerm { return backend.SearchTerm{Text: s, Phrase: true} }
	for _, tc := range []struct {
		q    string
		want backend.SearchTerms
	}{
		{"deploy", backend.SearchTerms{w("deploy")}},
		{"  Deploy   Friday ", backend.SearchTerms{w("deploy"), w("friday")}},
		{"depl*", backend.SearchTerms{p("depl")}},
		{"depl**", backend.SearchTerms{p("depl")}},
		{`"release   Notes" draft`, backend.SearchTerms{ph("release notes"), w("draft")}},
		{`draft"release notes"`, backend.SearchTerms{w("draft"), ph("release notes")}},
		{`"unclosed phrase here`, backend.SearchTerms{ph("unclosed phrase here")}},
		{`"single"`, backend.SearchTerms{w("single")}},
		{`"" x`, backend.SearchTerms{w("x")}},
		{"a - & b", backend.SearchTerms{w("a"), w("b")}},
		{"cat Cat CAT", backend.SearchTerms{w("cat")}},
		{"cat cat*", backend.SearchTerms{w("cat"), p("cat")}},
		{"Ünïcödé 東京", backend.SearchTerms{w("ünïcödé"), w("東京")}},
		{"e-mail*", backend.SearchTerms{p("e-mail")}},
		{"deploy-*", backend.SearchTerms{p("deploy")}},
		{"a*", backend.SearchTerms{p("a")}},
		{"foo-b*", backend.SearchTerms{p("foo-b")}},
		{"東京*", backend.SearchTerms{p("東京")}},
		{"1 2 3 4 5 6 7 8 9 10", backend.SearchTerms{w("1"), w("2"), w("3"), w("4"), w("5"), w("6"), w("7"), w("8"), w("9"), w("10")}},
	} {
		got, err := backend.ParseSearchQuery(tc.q)
		if err != nil {
			t.Errorf("ParseSearchQuery(%q): %v", tc.q, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSearchQuery(%q) = %+v, want %+v", tc.q, got, tc.want)
		}
	}
}

func TestParseSearchQueryRefuses(t *testing.T) {
	for _, tc := range []struct{ q, message string }{
		{"", "at least one word"},
		{"   ", "at least one word"},
		{`"" - *`, "at least one word"},
		{"1 2 3 4 5 6 7 8 9 10 11", "at most 10"},
		{`"a b" "c d" e f g h i j k l m`, "at most 10"},
		{strings.Repeat("x", 201), "201 bytes long; the limit is 200"},
		{"ok \xff", "valid UTF-8"},
	} {
		_, err := backend.ParseSearchQuery(tc.q)
		if backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(backend.ErrorMessage(err), tc.message) {
			t.Errorf("ParseSearchQuery(%q) = %v, want EINVALID saying %q", tc.q, err, tc.message)
		}
	}
	if _, err := backend.ParseSearchQuery(strings.Repeat("x", 200)); err != nil {
		t.Errorf("a query of exactly 200 bytes: %v", err)
	}
}

func TestSnippet(t *testing.T) {
	terms := func(q string) backend.SearchTerms {
		t.Helper()
		ts, err := backend.ParseSearchQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	long := strings.Repeat("lorem ipsum dolor sit amet ", 20) // 540 bytes
	for _, tc := range []struct {
		name, content, q, want string
	}{
		{"short content whole", "Deploy on\n\tFriday", "friday", "Deploy on Friday"},
		{"no match shows the start", "alpha beta", "zzz", "alpha beta"},
		{"whole word, not inside one", "concatenate the cat", "cat", "concatenate the cat"},
		{"match at start of long", "Needle " + long, "needle", "Needle " + strings.TrimSpace(long[:152]) + "…"},
	} {
		if got := backend.Snippet(tc.content, terms(tc.q)); got != tc.want {
			t.Errorf("%s: Snippet = %q, want %q", tc.name, got, tc.want)
		}
	}

	// A match deep in a long message: the window starts a little before it, on a word, and is
	// cut on both sides.
	content := long + "the NEEDLE is here " + long
	got := backend.Snippet(content, terms("needle"))
	if !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") || !strings.Contains(got, "the NEEDLE is here") {
		t.Fatalf("deep match: %q", got)
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(got, "…"), "…")
	if n := utf8.RuneCountInString(inner); n > backend.SnippetLen || n < backend.SnippetLen-20 {
		t.Errorf("deep match: window of %d runes: %q", n, got)
	}
	for _, w := range strings.Fields(inner) {
		if !strings.Contains("lorem ipsum dolor sit amet the NEEDLE is here", w) {
			t.Errorf("deep match: word %q was cut: %q", w, got)
		}
	}
	if i := strings.Index(inner, "NEEDLE"); i < 20 || i > 60 {
		t.Errorf("deep match: the match is at %d of the window, want some context before it: %q", i, got)
	}

	// Prefixes and phrases match where the index would; the earliest match of any term wins.
	content = long + "first Deployment then " + long + " release notes"
	if got := backend.Snippet(content, terms(`"release notes" deploy*`)); !strings.Contains(got, "first Deployment then") {
		t.Errorf("prefix: %q", got)
	}
	if got := backend.Snippet(content, terms(`"then lorem"`)); !strings.Contains(got, "Deployment then lorem") {
		t.Errorf("phrase: %q", got)
	}
	if got := backend.Snippet(content, terms(`"notes release"`)); strings.Contains(got, "release notes") || !strings.HasPrefix(got, "lorem") {
		t.Errorf("a phrase out of order does not match: %q", got)
	}

	// Multi-byte runes are never split, and a word longer than the window is cut inside.
	wide := strings.Repeat("東京 ", 300) + "目標 " + strings.Repeat("é", 400)
	for _, q := range []string{"目標", "zzz"} {
		got := backend.Snippet(wide, terms(q))
		if !utf8.ValidString(got) {
			t.Errorf("%s: invalid UTF-8 %q", q, got)
		}
		if n := utf8.RuneCountInString(got); n > backend.SnippetLen+2 {
			t.Errorf("%s: %d runes", q, n)
		}
	}
}

// FuzzParseSearchQuery: any query either parses into at most MaxSearchTerms distinct, non-empty,
// lower-case terms of valid UTF-8, or is refused as EINVALID; a query that parses takes at most
// MaxSearchQueryLen bytes. Snippet of any content with those terms is valid UTF-8 and bounded.
func FuzzParseSearchQuery(f *testing.F) {
	for _, seed := range []string{"deploy", `"release notes" depl* friday`, `"unclosed`, "a*", `""`, "東京*",
		"x\xff", strings.Repeat("w ", 11), `" " * "`, "É*", "e-mail*"} {
		f.Add(seed, "Deploy the release notes on Friday — 東京 e-mail")
	}
	f.Fuzz(func(t *testing.T, q, content string) {
		terms, err := backend.ParseSearchQuery(q)
		if err != nil {
			if backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("ParseSearchQuery(%q): %v", q, err)
			}
			return
		}
		if len(q) > backend.MaxSearchQueryLen || len(terms) == 0 || len(terms) > backend.MaxSearchTerms {
			t.Fatalf("ParseSearchQuery(%q) = %d terms", q, len(terms))
		}
		seen := map[backend.SearchTerm]bool{}
		for _, term := range terms {
			if term.Text == "" || !utf8.ValidString(term.Text) || strings.ToLower(term.Text) != term.Text || seen[term] {
				t.Fatalf("ParseSearchQuery(%q): bad term %+v in %+v", q, term, terms)
			}
			if term.Phrase && term.Prefix {
				t.Fatalf("ParseSearchQuery(%q): %+v is a phrase and a prefix", q, term)
			}
			seen[term] = true
		}
		if !utf8.ValidString(content) {
			return
		}
		s := backend.Snippet(content, terms)
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > backend.SnippetLen+2 {
			t.Fatalf("Snippet(%q, %q) = %q", content, q, s)
		}
	})
}
