package vocode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeOptions are the options of every body the client decodes: pages,
// usage and error details go through decodeDoc or unmarshal, and nothing
// else reads the API's JSON.
var decodeOptions = json.JoinOptions(
	// A member given twice reads as its last value, as encoding/json read
	// it: refusing the page would fail a whole walk for a quirk of the API
	// that loses nothing. Skipping the check is also cheaper.
	jsontext.AllowDuplicateNames(true),
	// A transcript with a stray byte must not cost the page: invalid UTF-8
	// reads as U+FFFD, as it did with encoding/json.
	jsontext.AllowInvalidUTF8(true),
)

// unmarshal decodes b into v with decodeOptions.
func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v, decodeOptions) }

// decodeDoc decodes a whole body held in memory into v. Anything after
// the top-level value but white space fails it: a body that is not what
// the API documents is better refused than half trusted. doc names the
// document in errors ("page", "usage report"); the errors quote nothing
// of the body.
func decodeDoc(b []byte, v any, doc string) error {
	if len(bytes.Trim(b, " \t\r\n")) == 0 {
		return errors.New("empty body")
	}
	if err := unmarshal(b, v); err != nil {
		return fmt.Errorf("malformed %s: %w", doc, safeJSONError(err, doc))
	}
	return nil
}

// safeJSONError keeps the position and kind of a decoding error but drops
// any quoted input: the decoder's own messages quote the value that did
// not fit, or the character that broke the syntax, which can be part of a
// secret. doc names what the body should hold: "page", "usage report".
func safeJSONError(err error, doc string) error {
	var own *fieldError
	if errors.As(err, &own) {
		return own
	}
	var semErr *json.SemanticError
	if errors.As(err, &semErr) {
		kind := kindName(semErr.JSONKind)
		field := pointerField(semErr.JSONPointer)
		if field == "" {
			return fmt.Errorf("the body is %s, not a %s object", kind, doc)
		}
		return fmt.Errorf("field %q holds %s where %s was expected (offset %d)",
			field, kind, jsonKind(semErr.GoType), semErr.ByteOffset)
	}
	var synErr *jsontext.SyntacticError
	if errors.As(err, &synErr) {
		switch {
		case errors.Is(synErr.Err, io.ErrUnexpectedEOF):
			return fmt.Errorf("body ends before the %s does", doc)
		case synErr.Err != nil && strings.HasSuffix(synErr.Err.Error(), "after top-level value"):
			// The text of the one syntax error that says so; jsontext
			// exports no value to compare with.
			return fmt.Errorf("data after the %s object (offset %d)", doc, synErr.ByteOffset)
		}
		return fmt.Errorf("invalid JSON at offset %d", synErr.ByteOffset)
	}
	// Nothing else is expected from decoding into our types; its text is
	// not known to be safe, so it is not passed on.
	return fmt.Errorf("undecodable %s (%T)", doc, err)
}

// pointerField turns the JSON pointer of a semantic error into the dotted
// path of the field, array indices left out ("/items/3/id" is "items.id").
// Its names are ours: a semantic error only arises where a member matched
// one of our fields, whose names are matched exactly.
func pointerField(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			continue
		}
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// fieldError is an error of one of our unmarshal methods. They write it
// to name the field and quote nothing, so it is passed on as it is.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

// kindName names a JSON kind with its article, for errors that quote
// nothing of the value.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a value"
}

// jsonKind names the JSON value a Go type decodes from, for error messages
// that speak the API's language rather than ours.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value"
}

// maxLabelBytes bounds API text that becomes a label value: a label of a
// megabyte would be sent to Prometheus with every scrape and kept in its
// index.
const maxLabelBytes = 128

// labelText makes API text fit for a label value or a log field: without
// control characters, which could break or forge a line; valid UTF-8, as
// the decoder already replaced invalid bytes; at most maxLabelBytes,
// cut between runes. The cut text is copied, so that a huge value is not
// kept alive by the few bytes taken from it.
func labelText(s string) string {
	s = stripControl(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= maxLabelBytes {
		return s
	}
	return strings.Clone(prefix(s, maxLabelBytes))
}

// prefix is the longest start of s of at most n bytes that does not cut a
// rune in two.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

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
