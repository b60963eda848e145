package vocodetest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

var endpointPaths = map[string]string{
	vocodetest.EndpointConnections: "/v1/account_connections/list?page=1&size=10",
	vocodetest.EndpointNumbers:     "/v1/numbers/list?page=1&size=10",
	vocodetest.EndpointUsage:       "/v1/usage",
}

// get asks api for endpoint's first page (or usage) with key.
func get(t *testing.T, api *vocodetest.API, endpoint, key string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, endpointPaths[endpoint], nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

// A fault applies to the endpoint it names; one that names none applies
// to the connection list alone, as faults did before there were other
// endpoints; AnyEndpoint applies everywhere.
func TestFaultEndpoint(t *testing.T) {
	all := []string{vocodetest.EndpointConnections, vocodetest.EndpointNumbers, vocodetest.EndpointUsage}
	tests := []struct {
		endpoint string
		failing  []string
	}{
		{"", []string{vocodetest.EndpointConnections}},
		{vocodetest.EndpointConnections, []string{vocodetest.EndpointConnections}},
		{vocodetest.EndpointNumbers, []string{vocodetest.EndpointNumbers}},
		{vocodetest.EndpointUsage, []string{vocodetest.EndpointUsage}},
		{vocodetest.AnyEndpoint, all},
	}
	for _, tt := range tests {
		t.Run("endpoint "+tt.endpoint, func(t *testing.T) {
			api := vocodetest.NewAPI(vocodetest.Dataset(1, 1))
			api.AddFault(vocodetest.Fault{Endpoint: tt.endpoint, Status: http.StatusTeapot})
			failing := map[string]bool{}
			for _, ep := range tt.failing {
				failing[ep] = true
			}
			for _, ep := range all {
				want := http.StatusOK
				if failing[ep] {
					want = http.StatusTeapot
				}
				if got := get(t, api, ep, vocodetest.DefaultAPIKey).Code; got != want {
					t.Errorf("%s answered %d, want %d", ep, got, want)
				}
			}
		})
	}
}

// A fault for a page never applies to usage, which has none.
func TestPageFaultSparesUsage(t *testing.T) {
	api := vocodetest.NewAPI(nil)
	api.AddFault(vocodetest.Fault{Endpoint: vocodetest.AnyEndpoint, Page: 1, Status: http.StatusBadGateway})
	if got := get(t, api, vocodetest.EndpointUsage, vocodetest.DefaultAPIKey).Code; got != http.StatusOK {
		t.Errorf("usage answered %d, want 200", got)
	}
	if got := get(t, api, vocodetest.EndpointNumbers, vocodetest.DefaultAPIKey).Code; got != http.StatusBadGateway {
		t.Errorf("numbers page 1 answered %d, want 502", got)
	}
}

func TestStatsByEndpoint(t *testing.T) {
	api := vocodetest.NewAPI(vocodetest.Dataset(1, 1))
	get(t, api, vocodetest.EndpointConnections, vocodetest.DefaultAPIKey)
	get(t, api, vocodetest.EndpointNumbers, vocodetest.DefaultAPIKey)
	get(t, api, vocodetest.EndpointNumbers, "wrong")
	get(t, api, vocodetest.EndpointUsage, "")
	get(t, api, vocodetest.EndpointUsage, vocodetest.DefaultAPIKey)

	s := api.Stats()
	if s.Requests != 1 || s.Unauthorized != 0 || s.Pages[1] != 1 || s.PageSizes[10] != 1 {
		t.Errorf("connection list stats %+v, want 1 request of page 1, size 10", s.EndpointStats)
	}
	numbers := s.Endpoints[vocodetest.EndpointNumbers]
	if numbers.Requests != 2 || numbers.Unauthorized != 1 || numbers.Pages[1] != 2 {
		t.Errorf("numbers stats %+v, want 2 requests of page 1, 1 unauthorized", numbers)
	}
	usage := s.Endpoints[vocodetest.EndpointUsage]
	if usage.Requests != 2 || usage.Unauthorized != 1 || len(usage.Pages) != 0 || len(usage.PageSizes) != 0 {
		t.Errorf("usage stats %+v, want 2 requests without pages, 1 unauthorized", usage)
	}
	if s.All.Requests != 5 || s.All.Unauthorized != 2 || s.All.MaxInFlight != 1 {
		t.Errorf("all stats %+v, want 5 requests, 2 unauthorized, 1 at a time", s.All)
	}
	if len(s.Authorization) != 2 {
		t.Errorf("distinct Authorization headers %q, want the right and the wrong one", s.Authorization)
	}
	api.ResetStats()
	if s := api.Stats(); s.All.Requests != 0 || s.Endpoints[vocodetest.EndpointNumbers].Requests != 0 {
		t.Errorf("after ResetStats: %+v", s)
	}
}

// numberJSON is what a test reads of a number the fake serves.
type numberJSON struct {
	ID           string          `json:"id"`
	Number       string          `json:"number"`
	Provider     *string         `json:"telephony_provider"`
	Active       bool            `json:"active"`
	OutboundOnly bool            `json:"outbound_only"`
	Connection   json.RawMessage `json:"telephony_account_connection"`
	Agent        json.RawMessage `json:"inbound_agent"`
}

// The data set holds every shape the client must read, in a fixed order.
func TestNumbersMix(t *testing.T) {
	conns := vocodetest.WithCredentials(vocodetest.Dataset(2, 1), "canary-secret")
	nums := vocodetest.Numbers(35, conns)
	api := vocodetest.NewAPI(conns, vocodetest.WithNumbers(nums))
	req := httptest.NewRequest(http.MethodGet, "/v1/numbers/list?page=1&size=100", nil)
	req.Header.Set("Authorization", "Bearer "+vocodetest.DefaultAPIKey)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	var page struct {
		Items   []numberJSON `json:"items"`
		HasMore bool         `json:"has_more"`
		Total   int          `json:"total"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 35 || page.HasMore || page.Total != 35 {
		t.Fatalf("%d items, has_more %v, total %d; want 35, false, 35", len(page.Items), page.HasMore, page.Total)
	}

	known := map[string]bool{}
	for _, c := range conns {
		known[c.ID] = true
	}
	count := map[string]int{}
	seen := map[string]bool{}
	for i, n := range page.Items {
		if n.ID == "" || n.Number == "" || seen[n.ID] || seen[n.Number] {
			t.Errorf("item %d: id %q, number %q: want both, distinct", i, n.ID, n.Number)
		}
		seen[n.ID], seen[n.Number] = true, true
		if n.Provider != nil {
			count["provider "+*n.Provider]++
		}
		switch c := string(n.Connection); {
		case c == "null":
			count["no connection"]++
		case strings.HasPrefix(c, "{"):
			count["embedded connection"]++
			if !strings.Contains(c, `"credentials":{`) || !strings.Contains(c, "canary-secret") {
				t.Errorf("item %d embeds a connection without its credentials: %s", i, c)
			}
		default:
			var id string
			if err := json.Unmarshal(n.Connection, &id); err != nil {
				t.Fatalf("item %d: telephony_account_connection %s", i, c)
			}
			if known[id] {
				count["connection id"]++
			} else {
				count["gone connection id"]++
			}
		}
		switch a := string(n.Agent); {
		case a == "null":
			count["no agent"]++
		case strings.HasPrefix(a, "{"):
			count["agent object"]++
		default:
			count["agent id"]++
		}
		if !n.Active {
			count["inactive"]++
		}
		if n.OutboundOnly {
			count["outbound only"]++
		}
	}
	want := map[string]int{
		"provider twilio": 24, "provider vonage": 11,
		"connection id": 6, "embedded connection": 6, "gone connection id": 6, "no connection": 17,
		"agent id": 18, "no agent": 9, "agent object": 8,
		"inactive": 7, "outbound only": 5,
	}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%d numbers with %s, want %d", count[k], k, v)
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name  string
		usage *vocodetest.Usage
		want  string
	}{
		{"default", nil,
			`{"monthly_usage_limit_minutes":null,"monthly_usage_minutes":0,"plan_type":"plan_developer","user_id":"00000000-0000-4000-8000-000000000001"}`},
		{"a limit", &vocodetest.Usage{Plan: "plan_enterprise", Minutes: 420, LimitMinutes: 10000, HasLimit: true},
			`{"monthly_usage_limit_minutes":10000,"monthly_usage_minutes":420,"plan_type":"plan_enterprise","user_id":"00000000-0000-4000-8000-000000000001"}`},
		{"a limit of 0", &vocodetest.Usage{Plan: "plan_free", HasLimit: true},
			`{"monthly_usage_limit_minutes":0,"monthly_usage_minutes":0,"plan_type":"plan_free","user_id":"00000000-0000-4000-8000-000000000001"}`},
		{"raw", &vocodetest.Usage{Raw: json.RawMessage(`{"plan_type":"plan_free"}`)}, `{"plan_type":"plan_free"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []vocodetest.Option
			if tt.usage != nil {
				opts = append(opts, vocodetest.WithUsage(*tt.usage))
			}
			rec := get(t, vocodetest.NewAPI(nil, opts...), vocodetest.EndpointUsage, vocodetest.DefaultAPIKey)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
				t.Errorf("got %d %s\nwant 200 %s", rec.Code, rec.Body, tt.want)
			}
		})
	}
}

// Each list rejects the page sizes it is told to, apart from the other.
func TestMaxPageSizeFor(t *testing.T) {
	api := vocodetest.NewAPI(nil, vocodetest.WithMaxPageSize(50), vocodetest.WithMaxPageSizeFor(vocodetest.EndpointNumbers, 20))
	for path, want := range map[string]int{
		"/v1/account_connections/list?size=50": 200, "/v1/account_connections/list?size=51": 422,
		"/v1/numbers/list?size=20": 200, "/v1/numbers/list?size=21": 422,
	} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+vocodetest.DefaultAPIKey)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s answered %d, want %d", path, rec.Code, want)
		}
	}
}
