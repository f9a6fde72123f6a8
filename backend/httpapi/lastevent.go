package httpapi

import (
	"strings"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
)

// unknownEventID is what a stream resumes after when the client's id is not an event id: never
// a key of the event log, so the broker answers RESYNC, as it does for a well-formed id that the
// log no longer holds. A 400 would not help: EventSource cannot recover from one, it would stop.
const unknownEventID = "-"

// parseLastEventID returns the id a reconnecting stream resumes after: the Last-Event-ID header,
// else the lastEventId query parameter (for clients that cannot set headers); "" when neither is
// set. The id must be a ULID in canonical form (26 characters, upper case), as every id the
// server sends is; anything else is an EINVALID error and "", and nothing longer than 26 bytes
// reaches the event log's lookup.
func parseLastEventID(header, query string) (string, error) {
	id := header
	if id == "" {
		id = query
	}
	if id == "" {
		return "", nil
	}
	if len(id) != ulid.EncodedSize || strings.ToUpper(id) != id {
		return "", backend.Errorf(backend.EINVALID, "The last event id must be a %d-character event id.", ulid.EncodedSize)
	}
	if _, err := ulid.ParseStrict(id); err != nil {
		return "", backend.Errorf(backend.EINVALID, "The last event id must be a %d-character event id.", ulid.EncodedSize)
	}
	return id, nil
}
