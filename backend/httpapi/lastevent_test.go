package httpapi

import (
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestParseLastEventID(t *testing.T) {
	const id = "01JDQ7X3K9V2M4T8E6R5N0PZ1A"
	for _, tc := range []struct {
		header, query, want string
		invalid             bool
	}{
		{"", "", "", false},
		{id, "", id, false},
		{"", id, id, false},
		{id, "garbage", id, false}, // the header wins
		{"garbage", id, "", true},  // … even when it is bad
		{"garbage", "", "", true},
		{strings.ToLower(id), "", "", true},
		{id + "0", "", "", true},
		{id[:25], "", "", true},
		{"81JDQ7X3K9V2M4T8E6R5N0PZ1A", "", "", true}, // overflows 128 bits
		{"01JDQ7X3K9V2M4T8E6R5N0PZ1U", "", "", true}, // U is not Crockford base32
		{" " + id[1:], "", "", true},
		{strings.Repeat("A", 1<<20), "", "", true},
	} {
		got, err := parseLastEventID(tc.header, tc.query)
		if got != tc.want || (err != nil) != tc.invalid || (err != nil && backend.ErrorCode(err) != backend.EINVALID) {
			t.Errorf("parseLastEventID(%.40q, %q) = %q, %v; want %q, invalid %v", tc.header, tc.query, got, err, tc.want, tc.invalid)
		}
	}
}

// FuzzParseLastEventID: never panics; an error comes with ""; an accepted id is at most 26 bytes
// and parses to itself again (the normalization is idempotent).
func FuzzParseLastEventID(f *testing.F) {
	f.Add("01JDQ7X3K9V2M4T8E6R5N0PZ1A", "")
	f.Add("", "01JDQ7X3K9V2M4T8E6R5N0PZ1A")
	f.Add("garbage", "")
	f.Add("01jdq7x3k9v2m4t8e6r5n0pz1a", "x")
	f.Add("ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "")
	f.Fuzz(func(t *testing.T, header, query string) {
		got, err := parseLastEventID(header, query)
		if err != nil {
			if got != "" || backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("%q, %v", got, err)
			}
			return
		}
		if len(got) > 26 || (got != header && got != query) {
			t.Fatalf("accepted %q from %q, %q", got, header, query)
		}
		if again, err := parseLastEventID(got, ""); again != got || err != nil {
			t.Fatalf("%q parses to %q, %v", got, again, err)
		}
	})
}
