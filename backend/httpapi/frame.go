package httpapi

import "github.com/herald-chat/herald/backend"

// AppendEventFrame appends the SSE frame that carries ev to dst and returns the extended slice:
// "id: ID\n" when ev has an id (durable events, and RESYNC with the log's head), "data: " and
// ev's sealed JSON (backend.Event.Data), and the blank line that ends the frame. ev must be
// sealed. The JSON is one line: encoding/json writes no line break outside strings and escapes
// those inside.
func AppendEventFrame(dst []byte, ev *backend.Event) []byte {
	if ev.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, ev.ID...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "data: "...)
	dst = append(dst, ev.Data()...)
	return append(dst, "\n\n"...)
}
