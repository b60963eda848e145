package vocode

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"
)

// maxDetail bounds how much of an error body's detail reaches logs.
const maxDetail = 160

// errorDetail summarises an error body. The API answers FastAPI's
// {"detail": "text"} or {"detail": [{"loc": [...], "msg": "..."}]}; anything
// else (an HTML page from a proxy, an empty body) is described, not quoted.
// named lists the elements of a validation error's `loc`s ("query",
// "size", ...), so that the caller can tell which of its parameters the API
// refused.
// The detail is neither redacted nor clipped: the caller redacts it first,
// so that clipping cannot cut a credential short of what Redact recognises.
func errorDetail(r io.Reader) (detail string, named []string) {
	body, err := io.ReadAll(r)
	if err != nil || len(body) == 0 {
		return "empty body", nil
	}
	var doc struct {
		Detail jsontext.Value `json:"detail"`
	}
	if unmarshal(body, &doc) != nil || len(doc.Detail) == 0 {
		return fmt.Sprintf("non-JSON body of %d bytes", len(body)), nil
	}
	var text string
	if unmarshal(doc.Detail, &text) == nil {
		return text, nil
	}
	var items []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if unmarshal(doc.Detail, &items) != nil {
		return "unrecognised error detail", nil
	}
	parts := make([]string, 0, len(items))
	for _, it := range items {
		loc := make([]string, 0, len(it.Loc))
		for _, l := range it.Loc {
			loc = append(loc, fmt.Sprint(l))
		}
		named = append(named, loc...)
		parts = append(parts, strings.Join(loc, ".")+": "+it.Msg)
	}
	return strings.Join(parts, "; "), named
}

// clip shortens s and strips control characters so a hostile body cannot
// forge log lines.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxDetail {
		s = prefix(s, maxDetail) + "…"
	}
	return s
}
