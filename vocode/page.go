package vocode

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
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
	// ID is as the API sends it, less control characters and cut to 128
	// bytes: it is the connection_id label. Two ids alike in their first
	// 128 bytes read as one connection.
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
// PhoneNumberPage, CallPage), whose items are I. items and has_more are
// required, and a pointer tells them missing from empty or false. The
// other fields are hints whose decoders accept any JSON value, so that an
// API getting them wrong costs the hint, never the page.
type pageJSON[I any] struct {
	Items            *[]I      `json:"items"`
	Page             pageHint  `json:"page"`
	HasMore          *bool     `json:"has_more"`
	Total            totalHint `json:"total"`
	TotalIsEstimated boolHint  `json:"total_is_estimated"`
}

// itemJSON has no credentials field on purpose: the decoder skips unknown
// members without decoding them, so secrets never land in memory we own.
type itemJSON struct {
	ID           string       `json:"id"`
	Type         string       `json:"type"`
	SteeringPool steeringPool `json:"steering_pool"`
	// A plain bool, not a pointer: missing and null both read as false,
	// the API's default, and a pointer would cost an allocation per item.
	AnyCallerID bool `json:"account_supports_any_caller_id"`
}

// steeringPool is the number of entries of a steering pool: the numbers
// themselves are skipped, so that a pool of 100,000 numbers costs no
// memory and no string. A value that is not an array (null aside) fails
// the page.
type steeringPool int

func (p *steeringPool) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*p = 0
	switch k := dec.PeekKind(); k {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '[':
	default:
		at := dec.InputOffset()
		if err := dec.SkipValue(); err != nil {
			return err // a syntax error, which says more
		}
		return &fieldError{fmt.Sprintf("steering_pool is not an array but %s (offset %d)", kindName(k), at)}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	n := 0
	// PeekKind is 0 on a syntax error, which SkipValue then returns.
	for dec.PeekKind() != ']' {
		if err := dec.SkipValue(); err != nil {
			return err
		}
		n++
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	*p = steeringPool(n)
	return nil
}

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

// jsonInt reads b, a JSON value the decoder has already checked, as an
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
	// The id and type become label values: they are checked as they will
	// be used.
	id := labelText(it.ID)
	if id == "" {
		return Connection{}, fmt.Errorf("item %d has no id", i)
	}
	typ := labelText(it.Type)
	if typ == "" {
		return Connection{}, fmt.Errorf("item %d has no type", i)
	}
	return Connection{ID: id, Type: typ,
		SteeringPoolSize: int(it.SteeringPool), SupportsAnyCallerID: it.AnyCallerID}, nil
}

// decodeListItems decodes a whole page held in memory, whose items decode
// into I, and makes each a T with item.
func decodeListItems[I, T any](b []byte, item func(i int, it *I) (T, error)) (*PageOf[T], error) {
	var raw pageJSON[I]
	if err := decodeDoc(b, &raw, "page"); err != nil {
		return nil, err
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
