package vocode

import (
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// The pages the decoding benchmarks read, as the fake serves them.
func benchBody(tb testing.TB, api *vocodetest.API, path string) []byte {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+vocodetest.DefaultAPIKey)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("fake API answered %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// BenchmarkDecodeJSON decodes the same pages into the same structs with
// the decoder the client uses (json=v2, go-json-experiment/json) and with
// encoding/json (json=v1), for `benchstat -col /json`:
//
//   - connections: 100 connections, credentials and steering pools;
//   - numbers: 100 numbers, one in six with an embedded connection;
//   - calls: 100 calls with 20 KB transcripts, about 2 MB.
func BenchmarkDecodeJSON(b *testing.B) {
	conns := vocodetest.Dataset(50, 50)
	calls := vocodetest.Calls(100, time.Now(), time.Hour, 20<<10, conns)
	api := vocodetest.NewAPI(conns, vocodetest.WithNumbers(vocodetest.Numbers(100, conns)), vocodetest.WithCalls(calls))
	pages := []struct {
		name string
		body []byte
		v2   func([]byte) (int, error)
		v1   func([]byte) (int, error)
	}{
		{"connections", benchBody(b, api, "/v1/account_connections/list?page=1&size=100"),
			count(decodePage), count(func(b []byte) (*Page, error) { return stdDecodeListItems(b, stdConnectionOf) })},
		{"numbers", benchBody(b, api, "/v1/numbers/list?page=1&size=100"),
			count(decodeNumbersPage), count(func(b []byte) (*NumberPage, error) { return stdDecodeListItems(b, stdNumberOf) })},
		{"calls", benchBody(b, api, "/v1/calls/list?page=1&size=100"),
			count(decodeCallsPage), count(func(b []byte) (*CallPage, error) { return stdDecodeListItems(b, stdCallOf) })},
	}
	for _, p := range pages {
		for _, impl := range []struct {
			name   string
			decode func([]byte) (int, error)
		}{{"v2", p.v2}, {"v1", p.v1}} {
			b.Run(fmt.Sprintf("page=%s/json=%s", p.name, impl.name), func(b *testing.B) {
				b.SetBytes(int64(len(p.body)))
				b.ReportAllocs()
				for b.Loop() {
					n, err := impl.decode(p.body)
					if err != nil {
						b.Fatal(err)
					}
					if n != 100 {
						b.Fatalf("decoded %d items, want 100", n)
					}
				}
			})
		}
	}
}

func count[T any](decode func([]byte) (*PageOf[T], error)) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		p, err := decode(b)
		if err != nil {
			return 0, err
		}
		return len(p.Items), nil
	}
}

// stdDecodeListItems is decodeListItems on encoding/json, for the
// benchmark alone: the same page struct, whose hints decode with either.
func stdDecodeListItems[I, T any](b []byte, item func(i int, it *I) (T, error)) (*PageOf[T], error) {
	var raw pageJSON[I]
	if err := stdjson.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	items := *raw.Items
	p := &PageOf[T]{Items: make([]T, 0, len(items)), Page: raw.Page.n, HasMore: *raw.HasMore,
		Total: raw.Total.n, HasTotal: raw.Total.ok, TotalIsEstimated: raw.TotalIsEstimated.v}
	for i := range items {
		it, err := item(i, &items[i])
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, it)
	}
	return p, nil
}

// The structs of the client with encoding/json's methods where the
// client's use the tokenizer: each reads the same value the same way.

type stdItemJSON struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	SteeringPool []stdPoolEntry `json:"steering_pool"`
	AnyCallerID  bool           `json:"account_supports_any_caller_id"`
}

type stdPoolEntry struct{}

func (*stdPoolEntry) UnmarshalJSON([]byte) error { return nil }

func stdConnectionOf(i int, it *stdItemJSON) (Connection, error) {
	return connectionOf(i, &itemJSON{ID: it.ID, Type: it.Type, SteeringPool: steeringPool(len(it.SteeringPool)),
		AnyCallerID: it.AnyCallerID})
}

type stdNumberJSON struct {
	ID           string           `json:"id"`
	Number       string           `json:"number"`
	Label        string           `json:"label"`
	Provider     string           `json:"telephony_provider"`
	Active       *bool            `json:"active"`
	OutboundOnly bool             `json:"outbound_only"`
	InboundAgent stdAgentRef      `json:"inbound_agent"`
	Connection   stdConnectionRef `json:"telephony_account_connection"`
}

type stdAgentRef bool

func (a *stdAgentRef) UnmarshalJSON(b []byte) error {
	*a = stdAgentRef(b[0] == '{' || (b[0] == '"' && len(b) > 2))
	return nil
}

type stdConnectionRef struct{ id string }

func (r *stdConnectionRef) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		return stdjson.Unmarshal(b, &r.id)
	case '{':
		var conn struct {
			ID string `json:"id"`
		}
		err := stdjson.Unmarshal(b, &conn)
		r.id = conn.ID
		return err
	}
	return nil
}

func stdNumberOf(i int, it *stdNumberJSON) (Number, error) {
	return numberOf(i, &numberJSON{ID: it.ID, Number: it.Number, Label: it.Label, Provider: it.Provider,
		Active: it.Active, OutboundOnly: it.OutboundOnly, InboundAgent: agentRef(it.InboundAgent),
		Connection: connectionRef{id: it.Connection.id}})
}

type stdCallJSON struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Stage   string      `json:"stage"`
	Outcome string      `json:"stage_outcome"`
	Start   stdCallTime `json:"start_time"`
	End     stdCallTime `json:"end_time"`
}

type stdCallTime callTime

func (s *stdCallTime) UnmarshalJSON(b []byte) error {
	*s = stdCallTime(parseCallTime(b))
	return nil
}

func stdCallOf(i int, it *stdCallJSON) (Call, error) {
	return callOf(i, &callJSON{ID: it.ID, Status: it.Status, Stage: it.Stage, Outcome: it.Outcome,
		Start: callTime(it.Start), End: callTime(it.End)})
}
