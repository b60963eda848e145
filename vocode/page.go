package vocode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Page is one decoded page of GET /v1/account_connections/list.
type Page struct {
	Items   []Connection
	Page    int // the page number the API says it served, 0 if it gave none
	HasMore bool
	// Total is the API's count of connections; HasTotal is false on APIs that
	// predate the field. Total is a hint only: HasMore decides the walk.
	Total            int
	HasTotal         bool
	TotalIsEstimated bool
}

// pageJSON mirrors AccountConnectionPage. Pointers tell a missing field from
// its zero value: items and has_more are required, total is optional.
type pageJSON struct {
	Items            *[]itemJSON `json:"items"`
	Page             *int        `json:"page"`
	HasMore          *bool       `json:"has_more"`
	Total            *int        `json:"total"`
	TotalIsEstimated *bool       `json:"total_is_estimated"`
}

// itemJSON has no credentials field on purpose: encoding/json skips unknown
// keys without decoding them, so secrets never land in memory we own.
type itemJSON struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	SteeringPool poolCount `json:"steering_pool"`
	AnyCallerID  *bool     `json:"account_supports_any_caller_id"`
}

// poolCount decodes a JSON array of phone numbers into its length, so that a
// pool of 100,000 numbers costs one int and not 100,000 strings.
type poolCount int

func (p *poolCount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*p = 0
		return nil
	}
	if len(b) < 2 || b[0] != '[' {
		return errors.New("steering_pool is not an array")
	}
	n, err := countArrayElements(b)
	if err != nil {
		return err
	}
	*p = poolCount(n)
	return nil
}

// countArrayElements counts the top-level elements of a JSON array with the
// fast decoder's scanner, so there is one array walker, not two.
func countArrayElements(b []byte) (int, error) {
	s := &scanner{b: b}
	n, ok := s.arrayLength()
	s.ws()
	if !ok || s.i != len(b) {
		return 0, errors.New("steering_pool is not a complete array")
	}
	return n, nil
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

// decodePage decodes a whole page held in memory: by decodeFast when the
// page has the usual shape, else by encoding/json, which then gives the
// result and any error.
func decodePage(b []byte) (*Page, error) {
	if raw, ok := decodeFast(b); ok {
		return raw.page()
	}
	return decodeJSON(b)
}

// decodeJSON decodes a page with encoding/json.
func decodeJSON(b []byte) (*Page, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var raw pageJSON
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty body")
		}
		return nil, fmt.Errorf("malformed page: %w", safeJSONError(err))
	}
	// Anything after the page but white space means the body is not what
	// the API documents; better to say so than to trust half of it.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed page: data after the page object")
	}
	return raw.page()
}

func (raw *pageJSON) page() (*Page, error) {
	if raw.Items == nil {
		return nil, errors.New("page has no items list")
	}
	if raw.HasMore == nil {
		return nil, errors.New("page has no has_more field")
	}
	p := &Page{HasMore: *raw.HasMore, Items: make([]Connection, 0, len(*raw.Items))}
	if raw.Page != nil {
		p.Page = *raw.Page
	}
	if raw.Total != nil {
		if *raw.Total < 0 {
			return nil, errors.New("page has a negative total")
		}
		p.Total, p.HasTotal = *raw.Total, true
	}
	if raw.TotalIsEstimated != nil {
		p.TotalIsEstimated = *raw.TotalIsEstimated
	}
	for i, it := range *raw.Items {
		if it.ID == "" {
			return nil, fmt.Errorf("item %d has no id", i)
		}
		if it.Type == "" {
			return nil, fmt.Errorf("item %d has no type", i)
		}
		c := Connection{ID: it.ID, Type: it.Type, SteeringPoolSize: int(it.SteeringPool)}
		if it.AnyCallerID != nil {
			c.SupportsAnyCallerID = *it.AnyCallerID
		}
		p.Items = append(p.Items, c)
	}
	return p, nil
}

// safeJSONError keeps the position and kind of a decoding error but drops any
// quoted input: an UnmarshalTypeError for a number quotes the number, and a
// syntax error can quote a character of a secret.
func safeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		kind, _, _ := strings.Cut(typeErr.Value, " ")
		return fmt.Errorf("field %q holds a %s where %s was expected (offset %d)",
			typeErr.Field, kind, typeErr.Type, typeErr.Offset)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("invalid JSON at offset %d", syntaxErr.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("body ends before the page does")
	}
	// Errors from our own UnmarshalJSON methods quote nothing.
	return err
}
