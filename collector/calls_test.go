package collector

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

var callsMetrics = []string{
	"vocode_calls", "vocode_call_stage_outcomes", "vocode_calls_in_progress",
	"vocode_calls_window_seconds", "vocode_calls_truncated", "vocode_calls_undated", "vocode_calls_unstarted_truncated",
}

// The calls of the window are counted by status, outcome and, in progress,
// by stage; every documented value is present; a value outside the spec is
// other; a call older than the window is not counted.
func TestCollectCalls(t *testing.T) {
	now := time.Now()
	newest := now.Add(-time.Minute).Truncate(time.Second)
	calls := []vocodetest.Call{
		{ID: "fresh", Status: "not_started"},
		{ID: "c1", Status: "in_progress", Stage: "transfer_started", Start: newest},
		{ID: "c2", Status: "in_progress", Stage: "picked_up", Start: now.Add(-2 * time.Minute)},
		{ID: "c3", Status: "error", Stage: "created", Outcome: "call_did_not_connect", Start: now.Add(-3 * time.Minute), ErrorMessage: "boom"},
		{ID: "c4", Status: "ended", Stage: "picked_up", Outcome: "human_disconnected", Start: now.Add(-4 * time.Minute)},
		{ID: "c5", Status: "ended", Stage: "picked_up", Start: now.Add(-5 * time.Minute)},
		{ID: "c6", Status: "on_hold", Stage: "picked_up", Outcome: "voicemail", Start: now.Add(-6 * time.Minute)},
		{ID: "old", Status: "error", Outcome: "call_did_not_connect", Start: now.Add(-time.Hour)},
		// Without a readable start: placed by status, then by end.
		{ID: "failed-before-start-long-ago", Status: "error", Outcome: "call_did_not_connect", End: now.Add(-time.Hour)},
		{ID: "failed-before-start-now", Status: "error", Outcome: "call_did_not_connect", End: now.Add(-time.Minute)},
		{ID: "no-times", Status: "ended"},
		{ID: "year-one", Status: "in_progress", Stage: "picked_up", StartJSON: []byte(`"0001-01-01T00:00:00Z"`), Start: now.Add(-time.Minute)},
	}
	f := newCollectingFixture(t, "prod", account.Enabled{Calls: true}, vocodetest.Dataset(1, 1), vocodetest.WithCalls(calls))
	c := f.collect(context.Background())
	err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP vocode_calls Calls that started within the last vocode_calls_window_seconds, or have not started yet, by status (not_started, in_progress, error, ended; other for a value outside the API's list). A call without a readable start time counts if not finished, and if finished (error, ended) when it ended within the window. Every status is present, 0 when none.
# TYPE vocode_calls gauge
vocode_calls{account="prod",status="ended"} 2
vocode_calls{account="prod",status="error"} 2
vocode_calls{account="prod",status="in_progress"} 3
vocode_calls{account="prod",status="not_started"} 1
vocode_calls{account="prod",status="other"} 1
# HELP vocode_call_stage_outcomes The same calls by stage outcome (how a call that did not go as planned ended: human_unanswered, call_did_not_connect, ...; other for a value outside the API's list). Calls without an outcome are not counted here; every outcome is present, 0 when none.
# TYPE vocode_call_stage_outcomes gauge
vocode_call_stage_outcomes{account="prod",stage_outcome="bot_disconnected"} 0
vocode_call_stage_outcomes{account="prod",stage_outcome="call_did_not_connect"} 2
vocode_call_stage_outcomes{account="prod",stage_outcome="human_disconnected"} 1
vocode_call_stage_outcomes{account="prod",stage_outcome="human_unanswered"} 0
vocode_call_stage_outcomes{account="prod",stage_outcome="other"} 1
vocode_call_stage_outcomes{account="prod",stage_outcome="transfer_disconnected"} 0
vocode_call_stage_outcomes{account="prod",stage_outcome="transfer_unanswered"} 0
# HELP vocode_calls_in_progress Calls of the window whose status is in_progress now, by stage (created, picked_up, transfer_started, transfer_successful; other for another or none). Compare transfer_started with the steering-pool size: a full pool answers 429.
# TYPE vocode_calls_in_progress gauge
vocode_calls_in_progress{account="prod",stage="created"} 0
vocode_calls_in_progress{account="prod",stage="picked_up"} 2
vocode_calls_in_progress{account="prod",stage="transfer_started"} 1
vocode_calls_in_progress{account="prod",stage="transfer_successful"} 0
# HELP vocode_calls_window_seconds The window the calls counts cover (--collector.calls.window): calls that started longer ago are not counted, even if still in progress.
# TYPE vocode_calls_window_seconds gauge
vocode_calls_window_seconds{account="prod"} 900
# HELP vocode_calls_truncated 1 when the calls walk stopped at --collector.calls.max-pages before it reached the window's start, so the counts cover less than the window; else 0.
# TYPE vocode_calls_truncated gauge
vocode_calls_truncated{account="prod"} 0
# HELP vocode_calls_undated Finished calls (error, ended) read by the calls walk whose start and end times are both null or unreadable: they cannot be placed in or out of the window and are not in vocode_calls. Not 0 means the API sends calls without times; see the runbook of VocodeCallsNotConnecting.
# TYPE vocode_calls_undated gauge
vocode_calls_undated{account="prod"} 1
# HELP vocode_calls_unstarted_truncated 1 when calls without a start time (not started yet, or failed before starting) were left unread past --collector.calls.max-unstarted-pages pages: the walk skipped them to count the window's started calls in full, and vocode_calls, vocode_call_stage_outcomes and vocode_calls_undated count only those read. Calls on the skipped pages that failed before starting and ended within the window are missing from vocode_calls{status="error"} and the not-connecting ratio, while vocode_calls_truncated stays 0; else 0.
# TYPE vocode_calls_unstarted_truncated gauge
vocode_calls_unstarted_truncated{account="prod"} 0
`), callsMetrics...)
	if err != nil {
		t.Error(err)
	}
	mfs := gather(t, c)
	for _, mf := range mfs {
		if mf.GetName() != "vocode_call_last_start_timestamp_seconds" {
			continue
		}
		if got := mf.GetMetric()[0].GetGauge().GetValue(); math.Abs(got-float64(newest.Unix())) > 0.001 {
			t.Errorf("vocode_call_last_start_timestamp_seconds = %v, want %v", got, newest.Unix())
		}
		return
	}
	t.Error("no vocode_call_last_start_timestamp_seconds")
}

// A failed calls walk exports none of the calls series, counts its reason
// under calls, and leaves vocode_up alone.
func TestCollectCallsFailed(t *testing.T) {
	f := newCollectingFixture(t, "prod", account.Enabled{Calls: true}, vocodetest.Dataset(1, 1),
		vocodetest.WithCalls(vocodetest.Calls(20, time.Now(), time.Minute, 0, nil)))
	f.api.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Status: 500})
	mfs := gather(t, f.collect(context.Background()))
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "vocode_call") {
			t.Errorf("%s exported by a failed calls walk", mf.GetName())
		}
	}
	if up := upOf(mfs, "prod"); up != 1 {
		t.Errorf("vocode_up = %v, want 1: the calls collector fails alone", up)
	}
	m := metricsOf(f.account(t, "prod"))
	if got := testutil.ToFloat64(m.scrapeErrors.WithLabelValues(account.CollectorCalls, string(vocode.ReasonServerError))); got != 1 {
		t.Errorf("calls server_error = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.apiRequests.WithLabelValues(vocode.EndpointCalls, "500")); got != 3 {
		t.Errorf("calls_list 500 requests = %v, want 3 (one try, two retries)", got)
	}
}
