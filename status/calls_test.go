package status

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// With the calls collector on, each row shows the calls of the window and
// the errors among them, and nothing of the calls themselves: the fake's
// calls carry a canary in their transcripts, numbers, error messages and
// embedded credentials.
func TestStatusPageCalls(t *testing.T) {
	const canary = "CALL-canary-7Qx"
	now := time.Now()
	calls := vocodetest.WithCallSecrets([]vocodetest.Call{
		{ID: "c1", Status: "in_progress", Stage: "picked_up", Start: now.Add(-time.Minute)},
		{ID: "c2", Status: "error", Stage: "created", Outcome: "call_did_not_connect", Start: now.Add(-2 * time.Minute)},
		{ID: "c3", Status: "ended", Stage: "picked_up", Outcome: "human_disconnected", Start: now.Add(-3 * time.Minute)},
		{ID: "c5", Status: "ended", Stage: "picked_up", Start: now.Add(-4 * time.Minute), Raw: shortCall(now.Add(-4*time.Minute), 3)},
		{ID: "c4", Status: "error", Stage: "created", Start: now.Add(-2 * time.Hour)}, // before the window
	}, canary)
	api := vocodetest.NewServer(vocodetest.Dataset(1, 1), vocodetest.WithCalls(calls))
	t.Cleanup(api.Close)
	yaml := fmt.Sprintf("accounts:\n  - {name: busy, url: %q, api_key: %s}\n", api.URL, api.APIKey)
	accounts := loadAccounts(t, &yaml, account.Enabled{Calls: true}) // the default window, 15m
	if o := accounts.Get("busy").Scrape(context.Background()); o.Calls.Err != nil {
		t.Fatal(o.Calls.Err)
	}

	_, page := render(t, Handler(accounts, Options{MetricsPath: "/metrics", Calls: true}), "/")
	if !strings.Contains(page, "<th>Calls</th>") {
		t.Error("no Calls column with the collector on")
	}
	if r := rowOf(t, page, "busy"); !strings.Contains(r, `<td class="calls">4 in the last 15m0s, 1 errors, 1 of 2 ended short (50%)</td>`) {
		t.Errorf("the row does not count the window's calls:\n%s", r)
	}
	if strings.Contains(page, canary) {
		t.Error("the page shows something of a call record")
	}
	_, page = render(t, Handler(accounts, Options{MetricsPath: "/metrics"}), "/")
	if strings.Contains(page, "<th>Calls</th>") || strings.Contains(page, `class="calls"`) {
		t.Error("a Calls column with the collector off")
	}
}

// shortCall is an ended call served raw: started at start, ended secs
// seconds later, carrying the canary of the other calls in its transcript.
func shortCall(start time.Time, secs int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":"c5","status":"ended","start_time":%d,"end_time":%d,"transcript":"CALL-canary-7Qx"}`,
		start.Unix(), start.Unix()+int64(secs)))
}
