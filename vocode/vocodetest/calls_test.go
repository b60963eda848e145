package vocodetest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// getCalls asks api for a page of calls with the given extra query.
func getCalls(t *testing.T, api *vocodetest.API, query string) (int, []map[string]json.RawMessage) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/v1/calls/list?page=1&size=10"+query, nil)
	req.Header.Set("Authorization", "Bearer "+vocodetest.DefaultAPIKey)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	var page struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Code, page.Items
}

func TestCallTimeFormats(t *testing.T) {
	start := time.Date(2026, 3, 4, 12, 0, 0, 500e6, time.UTC)
	tests := []struct {
		format vocodetest.TimeFormat
		want   string
	}{
		{vocodetest.TimeDefault, "1772625600.500000"},
		{vocodetest.TimeSeconds, "1772625600.500000"},
		{vocodetest.TimeMilliseconds, "1772625600500"},
		{vocodetest.TimeRFC3339, `"2026-03-04T12:00:00.5Z"`},
	}
	for _, tt := range tests {
		api := vocodetest.NewAPI(nil, vocodetest.WithCallTimeFormat(tt.format),
			vocodetest.WithCalls([]vocodetest.Call{{ID: "c1", Status: "ended", Start: start}, {ID: "c2"}}))
		_, items := getCalls(t, api, "")
		if got := string(items[0]["start_time"]); got != tt.want {
			t.Errorf("format %d: start_time %s, want %s", tt.format, got, tt.want)
		}
		if got := string(items[1]["start_time"]); got != "null" {
			t.Errorf("format %d: a call not started has start_time %s, want null", tt.format, got)
		}
	}
}

func TestCallSort(t *testing.T) {
	now := time.Now()
	calls := []vocodetest.Call{
		{ID: "old", Start: now.Add(-time.Hour)}, {ID: "new", Start: now}, {ID: "none"}, {ID: "mid", Start: now.Add(-time.Minute)},
	}
	const sorted = "&sort_column=start_time&sort_desc=true"
	tests := []struct {
		mode  vocodetest.SortMode
		query string
		code  int
		ids   []string
	}{
		{vocodetest.SortHonoured, sorted, 200, []string{"none", "new", "mid", "old"}},
		{vocodetest.SortHonoured, "", 200, []string{"old", "new", "none", "mid"}},
		{vocodetest.SortIgnored, sorted, 200, []string{"old", "new", "none", "mid"}},
		{vocodetest.SortRejected, sorted, 422, nil},
		{vocodetest.SortRejected, "&sort_desc=true", 422, nil},
		{vocodetest.SortRejected, "", 200, []string{"old", "new", "none", "mid"}},
	}
	for _, tt := range tests {
		api := vocodetest.NewAPI(nil, vocodetest.WithCallSort(tt.mode), vocodetest.WithCalls(calls))
		code, items := getCalls(t, api, tt.query)
		var ids []string
		for _, it := range items {
			var id string
			_ = json.Unmarshal(it["id"], &id)
			ids = append(ids, id)
		}
		if code != tt.code || !slices.Equal(ids, tt.ids) {
			t.Errorf("mode %d, query %q: %d %v, want %d %v", tt.mode, tt.query, code, ids, tt.code, tt.ids)
		}
	}
}

// Arrivals land at the head of the list, before each page.
func TestCallArrivals(t *testing.T) {
	api := vocodetest.NewAPI(nil, vocodetest.WithCallArrivals(2),
		vocodetest.WithCalls(vocodetest.Calls(5, time.Now(), time.Hour, 0, nil)))
	for want := 2; want <= 4; want += 2 {
		_, items := getCalls(t, api, "")
		arrived := 0
		for _, it := range items {
			if strings.HasPrefix(string(it["id"]), `"e`) {
				arrived++
			}
		}
		if arrived != want || len(items) != 5+want {
			t.Errorf("%d arrivals among %d calls, want %d among %d", arrived, len(items), want, 5+want)
		}
	}
}

// Every call carries what the exporter must never keep, and the secrets
// helper plants the canary in each of those places.
func TestCallSecrets(t *testing.T) {
	const canary = "CANARYzz91"
	calls := vocodetest.WithCallSecrets(vocodetest.Calls(4, time.Now(), time.Hour, 100, vocodetest.Dataset(1, 0)), canary)
	_, items := getCalls(t, vocodetest.NewAPI(nil, vocodetest.WithCalls(calls)), "")
	for i, it := range items {
		for _, field := range []string{"transcript", "from_number", "to_number", "error_message", "telephony_account_connection"} {
			if !strings.Contains(string(it[field]), canary) {
				t.Errorf("call %d: no canary in %s: %s", i, field, it[field])
			}
		}
	}
}
