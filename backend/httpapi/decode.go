package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/herald-chat/herald/backend"
)

// decodeJSON reads one JSON object of at most limit bytes into v. It rejects a Content-Type other
// than JSON or a charset other than UTF-8 (415), a larger body (413), malformed JSON, unknown
// fields, wrong types and trailing data (400). An empty body is an error unless optional is set,
// in which case v stays as it is.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64, optional bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return backend.Errorf(backend.EUNSUPPORTED, "Send the body as application/json.")
		}
		// JSON is UTF-8 (RFC 8259); a body labelled otherwise would be misread, not converted.
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return backend.Errorf(backend.EUNSUPPORTED, "Send the body as UTF-8; charset %q is not read.", cs)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var (
			tooLarge *http.MaxBytesError
			syntax   *json.SyntaxError
			typeErr  *json.UnmarshalTypeError
		)
		if err := asBodyTimeout(err); err != nil {
			return err
		}
		switch {
		case errors.As(err, &tooLarge):
			return backend.Errorf(backend.ETOOLARGE, "The body is larger than %d bytes.", limit)
		case errors.Is(err, io.EOF):
			if optional {
				return nil
			}
			return backend.Errorf(backend.EINVALID, "The body is empty; send a JSON object.")
		case errors.As(err, &syntax):
			return backend.Errorf(backend.EINVALID, "Malformed JSON at byte %d.", syntax.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return backend.Errorf(backend.EINVALID, "Malformed JSON: the body ends too early.")
		case errors.As(err, &typeErr):
			return backend.Errorf(backend.EINVALID, "Field %q must be of JSON type %s.", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return backend.Errorf(backend.EINVALID, "Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return backend.Errorf(backend.EINVALID, "Malformed JSON: %v.", err)
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return backend.Errorf(backend.ETOOLARGE, "The body is larger than %d bytes.", limit)
		}
		return backend.Errorf(backend.EINVALID, "The body must hold exactly one JSON object.")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	default:
		return fmt.Sprintf("number (%s)", goKind)
	}
}
