package vocode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Connection types as the API names them.
const (
	TypeTwilio = "account_connection_twilio"
	TypeOpenAI = "account_connection_openai"
)

// Connection is what the exporter keeps of one account connection. The
// credentials the API sends along are deliberately absent: they are skipped by
// the decoder and never reach a value of ours.
type Connection struct {
	ID   string
	Type string // as the API names it, e.g. "account_connection_twilio"
	// SteeringPoolSize is the number of Twilio numbers set aside for warm
	// transfers; only the count is kept, the numbers themselves are not.
	SteeringPoolSize    int
	SupportsAnyCallerID bool
}

// Kind is the connection's type without the "account_connection_" prefix,
// the form used in metric labels ("twilio", "openai", ...).
func (c Connection) Kind() string {
	return strings.TrimPrefix(c.Type, "account_connection_")
}

func (c Connection) itemID() string { return c.ID }

// PageOf is one decoded page of a paginated list of the API; Page and
// NumberPage name the lists the client reads.
type PageOf[T any] struct {
	Items   []T
	Page    int // the page number the API says it served; 0 if it gave none, or no integer
	HasMore bool
	// Total is the API's count of items; HasTotal is false on APIs that
	// predate the field, and when the field holds no plausible count. Total
	// is a hint only: HasMore decides the walk.
	Total            int
	HasTotal         bool
	TotalIsEstimated bool
}

// Page is one decoded page of GET /v1/account_connections/list.
type Page = PageOf[Connection]

// maxTotal is the largest `total` taken as a count of items. A larger
// one is read as no total at all: no account holds a billion connections
// (maxPages pages of the 100 that stock FastAPI pagination serves at most
// reach ten million), and a bounded total keeps the page arithmetic far
// from overflowing.
const maxTotal = 1_000_000_000

// pageJSON mirrors the API's pages (AccountConnectionPage,
// PhoneNumberPage), whose items are I. items and has_more are required,
// and a pointer tells them missing from empty or false. The other fields
// are hints whose decoders accept any JSON value, so that an API getting
// them wrong costs the hint, never the page.
type pageJSON[I any] struct {
	Items            *[]I      `json:"items"`
	Page             pageHint  `json:"page"`
	HasMore          *bool     `json:"has_more"`
	Total            totalHint `json:"total"`
	TotalIsEstimated boolHint  `json:"total_is_estimated"`
}

// itemJSON has no credentials field on purpose: encoding/json skips unknown
// keys without decoding them, so secrets never land in memory we own.
type itemJSON struct {
	ID           string       `json:"id"`
	Type         string       `json:"type"`
	SteeringPool steeringPool `json:"steering_pool"`
	// A plain bool, not a pointer: missing and null both read as false,
	// the API's default, and a pointer would cost an allocation per item.
	AnyCallerID bool `json:"account_supports_any_caller_id"`
}

// steeringPool holds one empty value per number in the pool, so that its
// length is the pool's size while a pool of 100,000 numbers costs no memory
// and no string. A value that is not an array (null aside) fails the page.
type steeringPool []poolEntry

// poolEntry stands for one number of a steering pool. Its UnmarshalJSON
// keeps nothing: encoding/json has checked the value's syntax before it is
// called, and the number itself is of no use to the exporter.
type poolEntry struct{}

func (*poolEntry) UnmarshalJSON([]byte) error { return nil }

// totalHint is `total` when it is a plausible count: an integer literal from
// 0 to maxTotal. Anything else (negative, fractional, a string, null, an
// object, a number too large) is read as no total, never as an error.
type totalHint struct {
	n  int
	ok bool
}

func (t *totalHint) UnmarshalJSON(b []byte) error {
	n, ok := jsonInt(b)
	*t = totalHint{}
	if ok && n >= 0 && n <= maxTotal {
		*t = totalHint{n: int(n), ok: true}
	}
	return nil
}

// boolHint is `total_is_estimated`: true or false, else absent.
type boolHint struct{ v bool }

func (h *boolHint) UnmarshalJSON(b []byte) error {
	h.v = string(b) == "true"
	return nil
}

// pageHint is the page number the API says it served. A value that is not
// an integer is ignored rather than failing the page: it names no page, so
// it cannot show that the API served another page than asked, and an API
// that ignores the page parameter is still caught, by a page that says
// has_more without bringing a connection not seen before.
type pageHint struct{ n int }

func (p *pageHint) UnmarshalJSON(b []byte) error {
	p.n = 0
	if n, ok := jsonInt(b); ok && n == int64(int(n)) {
		p.n = int(n)
	}
	return nil
}

// jsonInt reads b, a JSON value encoding/json has already checked, as an
// integer literal: no quotes, fraction or exponent, within int64.
func jsonInt(b []byte) (int64, bool) {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return 0, false // a string, literal or container: no need to parse
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// DecodePage reads one page from r. Errors describe what is wrong with the
// page without quoting it, so they are safe to log.
func DecodePage(r io.Reader) (*Page, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading page: %w", err)
	}
	return decodePage(b)
}

// decodePage decodes a whole page of connections held in memory.
func decodePage(b []byte) (*Page, error) {
	return decodeListItems(b, connectionOf)
}

func connectionOf(i int, it *itemJSON) (Connection, error) {
	if it.ID == "" {
		return Connection{}, fmt.Errorf("item %d has no id", i)
	}
	if it.Type == "" {
		return Connection{}, fmt.Errorf("item %d has no type", i)
	}
	return Connection{ID: it.ID, Type: it.Type,
		SteeringPoolSize: len(it.SteeringPool), SupportsAnyCallerID: it.AnyCallerID}, nil
}

// decodeListItems decodes a whole page held in memory, whose items decode
// into I, and makes each a T with item. json.Unmarshal checks the whole
// body before decoding any of it, so anything after the page object but
// white space fails the page: a body that is not what the API documents is
// better refused than half trusted.
func decodeListItems[I, T any](b []byte, item func(i int, it *I) (T, error)) (*PageOf[T], error) {
	if len(bytes.Trim(b, " \t\r\n")) == 0 {
		return nil, errors.New("empty body")
	}
	var raw pageJSON[I]
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("malformed page: %w", safeJSONError(err, "page"))
	}
	if raw.Items == nil {
		return nil, errors.New("page has no items list")
	}
	if raw.HasMore == nil {
		return nil, errors.New("page has no has_more field")
	}
	items := *raw.Items
	p := &PageOf[T]{
		Items:            make([]T, 0, len(items)),
		Page:             raw.Page.n,
		HasMore:          *raw.HasMore,
		Total:            raw.Total.n,
		HasTotal:         raw.Total.ok,
		TotalIsEstimated: raw.TotalIsEstimated.v,
	}
	for i := range items {
		it, err := item(i, &items[i])
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, it)
	}
	return p, nil
}

// The texts of the two syntax errors safeJSONError tells apart. encoding/json
// offers no other way to tell them from the rest, and both have read the
// same since Go 1.0.
const (
	jsonTruncated = "unexpected end of JSON input"
	jsonTrailing  = "after top-level value"
)

// safeJSONError keeps the position and kind of a decoding error but drops any
// quoted input: an UnmarshalTypeError for a number quotes the number, and a
// syntax error quotes the offending character, which can be one of a secret.
// doc names what the body should hold: "page", "usage report".
func safeJSONError(err error, doc string) error {
	var own *fieldError
	if errors.As(err, &own) {
		return own
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		// Value is "number 123" for numbers: keep only the kind.
		kind, _, _ := strings.Cut(typeErr.Value, " ")
		switch typeErr.Field {
		case "":
			return fmt.Errorf("the body is %s, not a %s object", article(kind), doc)
		case "items.steering_pool":
			return fmt.Errorf("steering_pool is not an array but %s (offset %d)", article(kind), typeErr.Offset)
		}
		return fmt.Errorf("field %q holds %s where %s was expected (offset %d)",
			typeErr.Field, article(kind), jsonKind(typeErr.Type), typeErr.Offset)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		switch msg := syntaxErr.Error(); {
		case msg == jsonTruncated:
			return fmt.Errorf("body ends before the %s does", doc)
		case strings.HasSuffix(msg, jsonTrailing):
			return fmt.Errorf("data after the %s object (offset %d)", doc, syntaxErr.Offset)
		}
		return fmt.Errorf("invalid JSON at offset %d", syntaxErr.Offset)
	}
	// Nothing else is expected from json.Unmarshal into our types; its
	// text is not known to be safe, so it is not passed on.
	return fmt.Errorf("undecodable %s (%T)", doc, err)
}

// fieldError is an error of one of our UnmarshalJSON methods. They write
// it to name the field and quote nothing, so it is passed on as it is.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

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

// article prefixes a JSON kind as encoding/json names it ("string",
// "number", "array", "object", "bool") with "a" or "an".
func article(kind string) string {
	switch kind {
	case "":
		return "a value"
	case "array", "object":
		return "an " + kind
	case "bool":
		return "a boolean"
	}
	return "a " + kind
}
