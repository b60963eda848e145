package e2e_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// The binary counts the window's calls exactly behind a backlog of calls
// not started, in each order the API may sort them, and reports the calls
// without a start it skipped and those it cannot date apart from
// vocode_calls_truncated; calls that failed before they started, long
// ago, are not counted.
func TestCallsBacklog(t *testing.T) {
	bin := e2e.Build(t)
	for _, tt := range []struct {
		name               string
		nulls              vocodetest.NullsOrder
		unstartedTruncated float64
		undated            float64
	}{
		// 3,000 calls not started: past the 10 pages read, the search
		// skips some, and lands on the page that ends the block: the 30
		// calls failed long ago (not counted) and the 4 undated.
		{"nulls first newest first", vocodetest.NullsPostgres, 1, 4},
		// Read oldest first: the bound stops the read before them.
		{"nulls last newest first", vocodetest.NullsMySQL, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			var calls []vocodetest.Call
			for i := range 3000 {
				calls = append(calls, vocodetest.Call{ID: vocodetest.ID("n", i), Status: "not_started"})
			}
			for i := range 30 {
				calls = append(calls, vocodetest.Call{ID: vocodetest.ID("f", i), Status: "error", Outcome: "call_did_not_connect",
					End: now.Add(-3 * time.Hour)})
			}
			for i := range 4 {
				calls = append(calls, vocodetest.Call{ID: vocodetest.ID("u", i), Status: "ended"})
			}
			for i := range 24 {
				c := vocodetest.Call{ID: vocodetest.ID("w", i), Start: now.Add(-time.Duration(i+1) * 20 * time.Second)}
				c.Status, c.Stage = "ended", "picked_up"
				if i%4 == 0 {
					c.Status, c.Stage, c.Outcome = "error", "created", "call_did_not_connect"
				}
				calls = append(calls, c)
			}
			for i := range 300 {
				calls = append(calls, vocodetest.Call{ID: vocodetest.ID("o", i), Status: "ended", Start: now.Add(-time.Hour - time.Duration(i)*time.Second)})
			}
			fake := vocodetest.NewServer(vocodetest.Dataset(1, 1), vocodetest.WithAPIKey(canaryKey),
				vocodetest.WithCalls(calls), vocodetest.WithCallNulls(tt.nulls))
			t.Cleanup(fake.Close)
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yml")
			writeConfig(t, cfg, account{accountName, fake.URL, writeFile(t, dir, "victim.key", canaryKey)})
			exp := e2e.Start(t, bin, e2e.Options{Args: []string{"--config.file=" + cfg, "--collector.calls",
				"--no-collector.usage", "--no-collector.numbers"}})

			_, mfs := scrape(t, exp)
			want := map[string]float64{"ended": 18, "error": 6, "in_progress": 0}
			for status, n := range want {
				if got := mustValue(t, mfs, "vocode_calls", "account", accountName, "status", status); got != n {
					t.Errorf("vocode_calls{status=%q} = %v, want %v", status, got, n)
				}
			}
			if got := mustValue(t, mfs, "vocode_call_stage_outcomes", "account", accountName, "stage_outcome", "call_did_not_connect"); got != 6 {
				t.Errorf("call_did_not_connect = %v, want the window's 6", got)
			}
			notStarted := mustValue(t, mfs, "vocode_calls", "account", accountName, "status", "not_started")
			for name, want := range map[string]float64{"vocode_calls_truncated": 0, "vocode_calls_unstarted_truncated": tt.unstartedTruncated} {
				if got := mustValue(t, mfs, name, "account", accountName); got != want {
					t.Errorf("%s = %v, want %v (%v not started counted)", name, got, want, notStarted)
				}
			}
			if notStarted < 1000 || notStarted >= 3000 {
				t.Errorf("%v not started counted, want the pages read: 1,000 or more, fewer than 3,000", notStarted)
			}
			if got := mustValue(t, mfs, "vocode_calls_undated", "account", accountName); got != tt.undated {
				t.Errorf("vocode_calls_undated = %v, want %v", got, tt.undated)
			}
			t.Log(fmt.Sprint(fake.Stats().Endpoints[vocodetest.EndpointCalls].Requests, " calls requests"))
		})
	}
}
