package collector

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWalkContextDeadline(t *testing.T) {
	tests := []struct {
		name string
		// join is the deadline of the scrape that joins; zero: none.
		join     time.Duration
		wantLate bool // the context outlives the first deadline
	}{
		{"earlier joiner changes nothing", 10 * time.Millisecond, false},
		{"later joiner extends", 300 * time.Millisecond, true},
		{"joiner without deadline lifts it", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			soon := time.Now().Add(50 * time.Millisecond)
			c := newWalkContext(context.Background(), soon, true)
			defer c.release()
			joined := time.Now().Add(tt.join)
			if !c.extend(joined, tt.join != 0) {
				t.Fatal("extend refused a live context")
			}
			select {
			case <-c.Done():
				if tt.wantLate {
					t.Fatalf("ended at %v, before the joiner's deadline", time.Now())
				}
				if !errors.Is(c.Err(), context.DeadlineExceeded) {
					t.Errorf("Err = %v, want DeadlineExceeded", c.Err())
				}
			case <-time.After(time.Until(soon) + 150*time.Millisecond):
				if !tt.wantLate {
					t.Fatal("did not end at its deadline")
				}
				d, ok := c.Deadline()
				switch {
				case tt.join == 0 && ok:
					t.Errorf("Deadline = %v, want none", d)
				case tt.join != 0 && !d.Equal(joined):
					t.Errorf("Deadline = %v, want the joiner's %v", d, joined)
				}
			}
		})
	}
}

// A walk context that ended cannot be joined: the scrape must start a walk.
func TestWalkContextEndedRefusesExtend(t *testing.T) {
	c := newWalkContext(context.Background(), time.Now().Add(-time.Millisecond), true)
	<-c.Done()
	if c.extend(time.Now().Add(time.Hour), true) {
		t.Error("extend accepted a context past its deadline")
	}
	if c.outlives(time.Now()) {
		t.Error("an ended context claims to outlive now")
	}
}

func TestWalkContextEndsWithParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newWalkContext(parent, time.Time{}, false)
	defer c.release()
	cancel()
	select {
	case <-c.Done():
	case <-time.After(time.Second):
		t.Fatal("did not end with its parent")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Errorf("Err = %v, want Canceled", c.Err())
	}
}

// The API client derives contexts from the walk's; they must see the
// extended deadline and end with it.
func TestWalkContextDerived(t *testing.T) {
	c := newWalkContext(context.Background(), time.Now().Add(20*time.Millisecond), true)
	defer c.release()
	child, cancel := context.WithCancel(c)
	defer cancel()
	later := time.Now().Add(time.Hour)
	c.extend(later, true)
	if d, _ := child.Deadline(); !d.Equal(later) {
		t.Errorf("child sees deadline %v, want %v", d, later)
	}
	c.release()
	select {
	case <-child.Done():
	case <-time.After(time.Second):
		t.Fatal("child did not end with the walk context")
	}
}
