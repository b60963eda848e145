package vocode

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many goroutines share a budget of 3: never more than 3 hold a slot.
func TestBudgetBounds(t *testing.T) {
	b := NewBudget(3)
	var now, peak atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			release, err := b.acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			n := now.Add(1)
			for p := peak.Load(); n > p; p = peak.Load() {
				if peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			now.Add(-1)
			release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak in flight %d, want at most 3 (and the budget used)", p)
	}
	if b.InFlight() != 0 || b.Waiting() != 0 {
		t.Errorf("after all released: %d in flight, %d waiting", b.InFlight(), b.Waiting())
	}
	if b.Waited() <= 0 {
		t.Error("no waiting time accounted though requests queued")
	}
}

// Slots go to waiters in the order they came: a newcomer cannot overtake
// requests already waiting, so no account starves.
func TestBudgetFIFO(t *testing.T) {
	b := NewBudget(1)
	hold, err := b.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 10)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			release, err := b.acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			release()
		})
		// Each waiter queues before the next starts.
		for b.Waiting() != i+1 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	hold()
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Fatalf("waiter %d got a slot in turn %d", got, want)
		}
		want++
	}
}

// A waiter whose context ends leaves the queue without a slot and without
// taking one from anybody.
func TestBudgetCancelWhileWaiting(t *testing.T) {
	b := NewBudget(1)
	hold, err := b.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire = %v, want the context's deadline", err)
	}
	if b.Waiting() != 0 {
		t.Errorf("%d still waiting after the context ended", b.Waiting())
	}
	hold()
	release, err := b.acquire(context.Background())
	if err != nil {
		t.Fatalf("the slot was lost to the cancelled waiter: %v", err)
	}
	release()
}

func TestNilBudgetIsUnbounded(t *testing.T) {
	var b *Budget
	release, err := b.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()
}
