package vocode

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// maxDetail bounds how much of an error body's detail reaches logs.
const maxDetail = 160

// errorDetail summarises an error body. The API answers FastAPI's
// {"detail": "text"} or {"detail": [{"loc": [...], "msg": "..."}]}; anything
// else (an HTML page from a proxy, an empty body) is described, not quoted.
// sizeRejected reports a validation error that names the `size` parameter.
// The detail is neither redacted nor clipped: the caller redacts it first,
// so that clipping cannot cut a credential short of what Redact recognises.
func errorDetail(r io.Reader) (detail string, sizeRejected bool) {
	body, err := io.ReadAll(r)
	if err != nil || len(body) == 0 {
		return "empty body", false
	}
	var doc struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &doc) != nil || len(doc.Detail) == 0 {
		return fmt.Sprintf("non-JSON body of %d bytes", len(body)), false
	}
	var text string
	if json.Unmarshal(doc.Detail, &text) == nil {
		return text, false
	}
	var items []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(doc.Detail, &items) != nil {
		return "unrecognised error detail", false
	}
	parts := make([]string, 0, len(items))
	for _, it := range items {
		loc := make([]string, 0, len(it.Loc))
		for _, l := range it.Loc {
			s := fmt.Sprint(l)
			if s == "size" {
				sizeRejected = true
			}
			loc = append(loc, s)
		}
		parts = append(parts, strings.Join(loc, ".")+": "+it.Msg)
	}
	return strings.Join(parts, "; "), sizeRejected
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
		cut := maxDetail
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// stripControl removes control characters from text the API sends that
// becomes a label value or part of a log line, so that it cannot break or
// forge one. Text without any is returned as it is, at no cost.
func stripControl(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
