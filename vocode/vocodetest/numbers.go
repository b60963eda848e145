package vocodetest

import (
	"encoding/json"
	"fmt"
)

// Number is one phone number as the fake serves it on GET /v1/numbers/list.
type Number struct {
	ID     string
	Number string // e.g. "+12020000001"
	Label  string
	// Provider is served as telephony_provider; "" leaves the field out,
	// which the API reads as "vonage".
	Provider     string
	Active       bool
	OutboundOnly bool
	// ConnectionID is served as telephony_account_connection, a UUID
	// string. Connection, when set, is served there instead as an embedded
	// connection object, credentials included, as the API does in some
	// answers. With neither, the field is null.
	ConnectionID string
	Connection   *Connection
	// InboundAgent is served as inbound_agent, an agent's UUID, or null
	// when empty. AgentObject serves an embedded agent object with that id
	// instead, as older answers did.
	InboundAgent string
	AgentObject  bool
	// Raw, when set, is served verbatim as the item, for shapes the fields
	// above cannot express (a field missing, an empty inbound_agent, ...).
	Raw json.RawMessage
}

// Usage is what the fake serves on GET /v1/usage.
type Usage struct {
	Plan         string // plan_type as the API names it, e.g. "plan_enterprise"
	Minutes      int64  // monthly_usage_minutes
	LimitMinutes int64  // monthly_usage_limit_minutes, if HasLimit
	HasLimit     bool   // false: the limit is null, no limit
	// Raw, when set, is served verbatim instead.
	Raw json.RawMessage
}

// The providers a Number names.
const (
	ProviderTwilio = "twilio"
	ProviderVonage = "vonage"
)

// Numbers returns a deterministic list of n phone numbers, mixed the way a
// real account's can be, cycling through six kinds:
//
//   - a Twilio number whose connection, one of conns, is given by its id;
//   - a Twilio number with its connection, one of conns, embedded with its
//     credentials (so a canary in conns' credentials reaches this list);
//   - a Vonage number, with no connection;
//   - a Twilio number whose connection id is in no list: the connection is
//     gone;
//   - a Twilio number with no connection;
//   - a Vonage number.
//
// Only conns of type account_connection_twilio are used; without any, the
// first two kinds have no connection. Every fifth number is inactive, every
// seventh outbound only; the inbound agent cycles through an agent id,
// null, another id and an older embedded agent object; every third label is
// empty. Call WithCredentials on conns first for a canary.
func Numbers(n int, conns []Connection) []Number {
	var twilio []Connection
	for _, c := range conns {
		if c.Type == "account_connection_twilio" {
			twilio = append(twilio, c)
		}
	}
	nums := make([]Number, n)
	for i := range nums {
		num := Number{
			ID:           ID("9", i),
			Number:       fmt.Sprintf("+1202%07d", i%10_000_000),
			Provider:     ProviderTwilio,
			Active:       i%5 != 4,
			OutboundOnly: i%7 == 6,
		}
		if i%3 != 2 {
			num.Label = fmt.Sprintf("Line %d", i+1)
		}
		switch i % 4 {
		case 0, 2:
			num.InboundAgent = ID("a", i)
		case 3:
			num.InboundAgent, num.AgentObject = ID("a", i), true
		}
		switch kind := i % 6; kind {
		case 0, 1:
			if len(twilio) == 0 {
				break
			}
			c := twilio[(i/3+kind)%len(twilio)]
			if kind == 0 {
				num.ConnectionID = c.ID
			} else {
				num.Connection = &c
			}
		case 2, 5:
			num.Provider = ProviderVonage
		case 3:
			num.ConnectionID = ID("d", i)
		}
		nums[i] = num
	}
	return nums
}

// RawNumber is a Number served as the given JSON verbatim.
func RawNumber(v any) Number {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return Number{Raw: b}
}

func (n Number) encode() json.RawMessage {
	if n.Raw != nil {
		return n.Raw
	}
	m := map[string]any{
		"id": n.ID, "user_id": userID, "number": n.Number, "label": n.Label,
		"active": n.Active, "outbound_only": n.OutboundOnly, "example_context": nil,
		"inbound_agent": nil, "telephony_account_connection": nil,
	}
	if n.Provider != "" {
		m["telephony_provider"] = n.Provider
	}
	switch {
	case n.Connection != nil:
		m["telephony_account_connection"] = n.Connection.encode()
	case n.ConnectionID != "":
		m["telephony_account_connection"] = n.ConnectionID
	}
	switch {
	case n.InboundAgent != "" && n.AgentObject:
		m["inbound_agent"] = map[string]any{
			"id": n.InboundAgent, "user_id": userID, "name": "Front desk",
			"prompt":   map[string]string{"content": "Greet the caller and ask how to help."},
			"language": "en", "initial_message": map[string]string{"content": "Hello!"},
		}
	case n.InboundAgent != "":
		m["inbound_agent"] = n.InboundAgent
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings, bools, string maps and encoded JSON: cannot fail
	}
	return b
}

func (u Usage) encode() json.RawMessage {
	if u.Raw != nil {
		return u.Raw
	}
	m := map[string]any{
		"user_id": userID, "plan_type": u.Plan, "monthly_usage_minutes": u.Minutes,
		"monthly_usage_limit_minutes": nil,
	}
	if u.HasLimit {
		m["monthly_usage_limit_minutes"] = u.LimitMinutes
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings and integers: cannot fail
	}
	return b
}
