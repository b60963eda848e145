package vocode

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The telephony providers a number names.
const (
	ProviderVonage = "vonage"
	ProviderTwilio = "twilio"
)

// Number is what the exporter keeps of one phone number. A Twilio
// connection embedded in the API's answer, credentials included, is
// reduced to its id by the decoder: the credentials never reach a value of
// ours.
type Number struct {
	// ID is as the API sends it, less control characters and cut to 128
	// bytes, as Number and Label: it is a label value.
	ID string
	// Number and Label are as the API sends them, less control characters
	// and cut to 128 bytes: they end up in label values and log lines.
	Number string
	Label  string
	// Provider is telephony_provider, ProviderVonage when the API leaves it
	// out (its default), else as sent, less control characters and cut to
	// 128 bytes.
	Provider        string
	Active          bool // true unless the API says false
	OutboundOnly    bool
	HasInboundAgent bool
	// ConnectionID is the id of the Twilio account connection the number
	// goes through, "" for none, cut as ID. It need not be in the connection list: a
	// connection can be deleted while numbers still name it.
	ConnectionID string
}

func (n Number) itemID() string { return n.ID }

// NumberPage is one decoded page of GET /v1/numbers/list.
type NumberPage = PageOf[Number]

// NumberList is what one walk of the numbers list found.
type NumberList struct {
	// Numbers holds each number once, in the order first seen.
	Numbers          []Number
	Total            int // the API's total from page 1, if HasTotal
	HasTotal         bool
	TotalIsEstimated bool
	Pages            int // pages fetched, failed ones included
	PageSize         int
}

// WalkNumbers fetches every page of the phone-numbers list, as Walk does
// the connection list and by the same rules; the numbers list learns its
// own page size. The result is returned even on error, for its page count.
func (c *Client) WalkNumbers(ctx context.Context) (*NumberList, error) {
	l, err := walkList(ctx, c, &c.numbers)
	return &NumberList{Numbers: l.items, Total: l.total, HasTotal: l.hasTotal,
		TotalIsEstimated: l.totalIsEstimated, Pages: l.pages, PageSize: l.pageSize}, err
}

// numberJSON mirrors NormalizedPhoneNumber, less what the exporter has no
// use for: user_id and example_context are skipped by the decoder without
// being decoded.
type numberJSON struct {
	ID       string `json:"id"`
	Number   string `json:"number"`
	Label    string `json:"label"`
	Provider string `json:"telephony_provider"`
	// A pointer, for the API's default is true: missing and null must not
	// read as false.
	Active       *bool         `json:"active"`
	OutboundOnly bool          `json:"outbound_only"`
	InboundAgent agentRef      `json:"inbound_agent"`
	Connection   connectionRef `json:"telephony_account_connection"`
}

// agentRef is inbound_agent: an agent's id, null, or in older answers the
// agent itself. Only whether there is one is kept; an embedded agent is
// skipped, not decoded, as its prompt and settings are of no use here.
type agentRef bool

func (a *agentRef) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*a = tok.String() != ""
	case '{':
		*a = true
		return dec.SkipValue()
	case 'n':
		*a = false
		_, err := dec.ReadToken()
		return err
	default:
		if err := dec.SkipValue(); err != nil {
			return err // a syntax error, which says more
		}
		return &fieldError{"inbound_agent holds " + kindName(k) +
			" where an agent id, an agent object or null was expected"}
	}
	return nil
}

// connectionRef is telephony_account_connection: a connection's id, null,
// or the connection itself, credentials included. Of an embedded
// connection only the id is decoded; the decoder skips the credentials
// beside it without keeping them anywhere.
type connectionRef struct {
	id       string
	embedded bool // an embedded connection, which must have an id
}

func (r *connectionRef) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*r = connectionRef{id: tok.String()}
	case '{':
		var conn struct {
			ID string `json:"id"`
		}
		if err := json.UnmarshalDecode(dec, &conn); err != nil {
			var synErr *jsontext.SyntacticError
			if errors.As(err, &synErr) {
				return err
			}
			return &fieldError{"the id of an embedded telephony_account_connection is not a string"}
		}
		*r = connectionRef{id: conn.ID, embedded: true}
	case 'n':
		*r = connectionRef{}
		_, err := dec.ReadToken()
		return err
	default:
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return &fieldError{"telephony_account_connection holds " + kindName(k) +
			" where a connection id, a connection object or null was expected"}
	}
	return nil
}

// DecodeNumbersPage reads one page of the numbers list from r. Errors
// describe what is wrong with the page without quoting it, so they are
// safe to log.
func DecodeNumbersPage(r io.Reader) (*NumberPage, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading page: %w", err)
	}
	return decodeNumbersPage(b)
}

func decodeNumbersPage(b []byte) (*NumberPage, error) {
	return decodeListItems(b, numberOf)
}

func numberOf(i int, it *numberJSON) (Number, error) {
	n := Number{
		ID:              labelText(it.ID),
		Number:          labelText(it.Number),
		Label:           labelText(it.Label),
		Provider:        labelText(it.Provider),
		Active:          it.Active == nil || *it.Active,
		OutboundOnly:    it.OutboundOnly,
		HasInboundAgent: bool(it.InboundAgent),
		ConnectionID:    labelText(it.Connection.id),
	}
	switch {
	case n.ID == "":
		return Number{}, fmt.Errorf("item %d has no id", i)
	case n.Number == "":
		return Number{}, fmt.Errorf("item %d has no number", i)
	case it.Connection.embedded && n.ConnectionID == "":
		return Number{}, fmt.Errorf("item %d: its embedded telephony_account_connection has no id", i)
	}
	if n.Provider == "" {
		n.Provider = ProviderVonage
	}
	return n, nil
}
