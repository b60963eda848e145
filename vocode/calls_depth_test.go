package vocode

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// Each ended call lands in one duration bucket, by its duration at most
// the bucket's bound; a call without a readable duration (no start, no
// end, an end before the start) lands in +Inf and is never short.
func TestCallDepthDurations(t *testing.T) {
	start := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	ended := func(d time.Duration) Call { return Call{Status: "ended", Start: start, End: start.Add(d)} }
	inf := len(DurationBuckets)
	tests := []struct {
		name   string
		call   Call
		bucket int // -1: counted in no bucket
		short  bool
	}{
		{"0s", ended(0), 0, true},
		{"5s, at the first bound", ended(5 * time.Second), 0, true},
		{"5.001s", ended(5*time.Second + time.Millisecond), 1, true},
		{"9.999s, short", ended(10*time.Second - time.Millisecond), 1, true},
		{"10s, not short", ended(10 * time.Second), 1, false},
		{"90s", ended(90 * time.Second), 4, false},
		{"30m", ended(30 * time.Minute), 7, false},
		{"30m1s", ended(30*time.Minute + time.Second), inf, false},
		{"end before start", Call{Status: "ended", Start: start, End: start.Add(-time.Second)}, inf, false},
		{"no end", Call{Status: "ended", Start: start}, inf, false},
		{"no start", Call{Status: "ended", End: start, NotStarted: true}, inf, false},
		{"in progress: not ended", Call{Status: "in_progress", Start: start, End: start.Add(time.Second)}, -1, false},
		{"error: not ended", Call{Status: "error", Start: start, End: start.Add(time.Second)}, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newCallDepth(CallsQuery{ByAgent: true})
			d.add(tt.call)
			want := make([]int, inf+1)
			if tt.bucket >= 0 {
				want[tt.bucket] = 1
			}
			if !slices.Equal(d.EndedByDuration, want) {
				t.Errorf("buckets %v, want %v", d.EndedByDuration, want)
			}
			if (d.Short == 1) != tt.short || (d.ByAgent[""].Short == 1) != tt.short {
				t.Errorf("short %d (agent's %d), want %v", d.Short, d.ByAgent[""].Short, tt.short)
			}
		})
	}
}

// The short threshold is the query's; human detection counts ended calls
// only; by agent, every call of the window counts, by status and outcome.
func TestCallDepthCounts(t *testing.T) {
	start := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	calls := []Call{
		{Status: "ended", Start: start, End: start.Add(20 * time.Second), HumanDetection: "human", Agent: "g1", Outcome: "bot_disconnected"},
		{Status: "ended", Start: start, End: start.Add(40 * time.Second), HumanDetection: "no_human", Agent: "g1"},
		{Status: "ended", Start: start, End: start.Add(3 * time.Second), Agent: "g2", Outcome: "human_disconnected"},
		{Status: "ended", Start: start, End: start.Add(2 * time.Hour), HumanDetection: CallOther, Agent: "g2"},
		{Status: "error", Start: start, HumanDetection: "human", Agent: "g2", Outcome: "call_did_not_connect"},
		{Status: "in_progress", Start: start, HumanDetection: "no_human"},
	}
	d := newCallDepth(CallsQuery{ShortCall: 30 * time.Second, ByAgent: true})
	for _, c := range calls {
		d.add(c)
	}
	if d.ShortCall != 30*time.Second || d.MaxAgents != DefaultMaxAgents {
		t.Errorf("short call %v, max agents %d; want 30s and the default", d.ShortCall, d.MaxAgents)
	}
	if d.Short != 2 {
		t.Errorf("%d short calls, want 2 (20s and 3s under 30s)", d.Short)
	}
	wantHuman := map[string]int{"human": 1, "no_human": 1, "none": 1, "other": 1}
	if !maps.Equal(d.HumanDetection, wantHuman) {
		t.Errorf("human detection %v, want %v", d.HumanDetection, wantHuman)
	}
	wantAgents := map[string]AgentCalls{
		"g1": {Calls: 2, ByStatus: map[string]int{"ended": 2}, ByOutcome: map[string]int{"bot_disconnected": 1}, Short: 1},
		"g2": {Calls: 3, ByStatus: map[string]int{"ended": 2, "error": 1},
			ByOutcome: map[string]int{"human_disconnected": 1, "call_did_not_connect": 1}, Short: 1},
		"": {Calls: 1, ByStatus: map[string]int{"in_progress": 1}, ByOutcome: map[string]int{}},
	}
	if len(d.ByAgent) != len(wantAgents) {
		t.Fatalf("%d agents, want %d", len(d.ByAgent), len(wantAgents))
	}
	for id, want := range wantAgents {
		got := d.ByAgent[id]
		if got == nil || got.Calls != want.Calls || got.Short != want.Short ||
			!maps.Equal(got.ByStatus, want.ByStatus) || !maps.Equal(got.ByOutcome, want.ByOutcome) {
			t.Errorf("agent %q: %+v, want %+v", id, got, want)
		}
	}
	if d := newCallDepth(CallsQuery{}); d.ByAgent != nil || d.ShortCall != DefaultShortCall {
		t.Errorf("without ByAgent: by agent %v, short call %v; want nil and the default", d.ByAgent, d.ShortCall)
	}
}

// end_time is read in every form start_time is: a call's duration comes
// out the same whichever form each of its times takes; a null or unreadable
// end, or one before the start, gives no duration.
func TestCallDurationForms(t *testing.T) {
	start := `1764680400`
	tests := []struct {
		start, end string
		want       time.Duration // -1: no duration
	}{
		{start, `1764680430.5`, 30500 * time.Millisecond},
		{start, `1764680430500`, 30500 * time.Millisecond},
		{start, `"2025-12-02T13:00:30.5Z"`, 30500 * time.Millisecond},
		{`"2025-12-02T14:00:00+01:00"`, `1764680430500`, 30500 * time.Millisecond},
		{`1764680400000`, `"2025-12-02T13:00:30.5"`, 30500 * time.Millisecond},
		{start, start, 0},
		{start, `1764680399`, -1},
		{start, `null`, -1},
		{start, `"yesterday"`, -1},
		{start, `true`, -1},
		{`null`, `1764680430`, -1},
	}
	for _, tt := range tests {
		t.Run(tt.start+" to "+tt.end, func(t *testing.T) {
			p, err := decodeCallsPage([]byte(`{"items":[{"id":"c","status":"ended","start_time":` + tt.start +
				`,"end_time":` + tt.end + `}],"has_more":false}`))
			if err != nil {
				t.Fatal(err)
			}
			d, ok := p.Items[0].Duration()
			if !ok {
				d = -1
			}
			if d != tt.want {
				t.Errorf("duration %v, want %v", d, tt.want)
			}
		})
	}
}
