package vocode_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// A walk of the fake's calls, in each time form, counts the window's ended
// calls by duration and human detection as the calls it serves say: their
// ends come in another form than their starts for a third of them, some
// end before they start (+Inf, never short), some last over 30 minutes.
func TestCallsDepthFromFake(t *testing.T) {
	now := time.Now()
	calls := vocodetest.Calls(200, now, 10*time.Minute, 0, nil)
	wantBuckets := make([]int, len(vocode.DurationBuckets)+1)
	wantHuman := map[string]int{"human": 0, "no_human": 0, "none": 0, "other": 0}
	wantShort, backwards := 0, 0
	for _, c := range calls {
		if c.Status != "ended" {
			continue
		}
		d := c.End.Sub(c.Start)
		bucket := len(vocode.DurationBuckets)
		if d >= 0 {
			for i, b := range vocode.DurationBuckets {
				if d <= time.Duration(b)*time.Second {
					bucket = i
					break
				}
			}
			if d < 10*time.Second {
				wantShort++
			}
		} else {
			backwards++
		}
		wantBuckets[bucket]++
		switch {
		case c.NullHumanDetection:
			wantHuman["none"]++
		case c.HumanDetection == "":
			wantHuman["human"]++
		case c.HumanDetection == "no_human":
			wantHuman["no_human"]++
		default:
			wantHuman["other"]++
		}
	}
	if backwards == 0 || wantShort == 0 || wantBuckets[len(wantBuckets)-1] == backwards {
		t.Fatalf("the fake's calls lack a shape: %d ending before they start, %d short, +Inf %v", backwards, wantShort, wantBuckets)
	}
	for _, form := range []vocodetest.TimeFormat{vocodetest.TimeSeconds, vocodetest.TimeMilliseconds, vocodetest.TimeRFC3339} {
		s := newServer(t, nil, vocodetest.WithCalls(calls), vocodetest.WithCallTimeFormat(form))
		stats, err := newClient(t, s, vocode.Options{}).Calls(context.Background(), vocode.CallsQuery{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		d := stats.Depth
		if !slices.Equal(d.EndedByDuration, wantBuckets) || d.Short != wantShort {
			t.Errorf("form %d: buckets %v, %d short; want %v, %d", form, d.EndedByDuration, d.Short, wantBuckets, wantShort)
		}
		for k, n := range wantHuman {
			if d.HumanDetection[k] != n {
				t.Errorf("form %d: human detection %v, want %v", form, d.HumanDetection, wantHuman)
				break
			}
		}
	}
}
