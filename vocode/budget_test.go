package vocode

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitUntil polls cond, which the slots make exact, until it holds; the
// deadline only guards against a hang, it decides nothing.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	guard := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(guard) {
			t.Fatalf("still not true after 10s: %s", what)
		}
		runtime.Gosched()
	}
}

// testClient is a client whose requests never reach a network: the tests
// that use it only take and give back slots.
func testClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := New("http://127.0.0.1:9", "test-key", opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

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
			time.Sleep(time.Millisecond) // the request's work, so that others queue
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
// requests already waiting, so no account starves. Each waiter is queued
// (Waiting counts it under the queue's lock) before the next one starts.
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
		waitUntil(t, "waiter queued", func() bool { return b.Waiting() == i+1 })
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

// grant is a slot a request got, held until the test gives it back.
type grant struct {
	account string
	release func()
}

// queueRequest starts a request of c that takes its slots, reports them on
// granted, and holds them until the test releases them. A test that fails
// early ends the requests still queued with its context.
func queueRequest(t *testing.T, wg *sync.WaitGroup, c *Client, account string, granted chan<- grant) {
	wg.Go(func() {
		release, err := c.acquire(t.Context(), request{endpoint: EndpointList, page: 1})
		if err != nil {
			if t.Context().Err() == nil {
				t.Error(err)
			}
			return
		}
		granted <- grant{account, release}
	})
}

// One account with 1,000 requests queued for the budget delays another
// account's single request by the requests ahead of it when it arrived,
// and by nothing that arrived after it.
func TestBudgetFairBetweenAccounts(t *testing.T) {
	const (
		first  = 1000 // account a's requests queued before b's arrives
		served = 300  // of them, served before b's arrives
		later  = 500  // a's requests arriving after b's
	)
	budget := NewBudget(1)
	a := testClient(t, Options{Concurrency: 2 * (first + later), Budget: budget})
	b := testClient(t, Options{Concurrency: 1, Budget: budget})
	hold, err := budget.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Room for every grant, so that no request blocks on reporting one.
	granted := make(chan grant, first+later+1)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after t.Context ends what is still queued
	for range first {
		queueRequest(t, &wg, a, "a", granted)
	}
	waitUntil(t, "a's requests queued", func() bool { return budget.Waiting() == first })

	// With one slot, each grant waits for the one before it to be given
	// back: the order they come in is the order the budget chose.
	next := func() grant {
		t.Helper()
		select {
		case g := <-granted:
			return g
		case <-time.After(10 * time.Second):
			t.Fatal("no request got the slot given back")
			return grant{}
		}
	}
	current := grant{release: hold}
	for range served {
		current.release()
		current = next()
		if current.account != "a" {
			t.Fatalf("%s got a slot before arriving", current.account)
		}
	}
	ahead := budget.Waiting()
	queueRequest(t, &wg, b, "b", granted)
	waitUntil(t, "b's request queued", func() bool { return budget.Waiting() == ahead+1 })
	for range later {
		queueRequest(t, &wg, a, "a", granted)
	}
	waitUntil(t, "a's later requests queued", func() bool { return budget.Waiting() == ahead+1+later })

	before := 0
	for {
		current.release()
		current = next()
		if current.account == "b" {
			break
		}
		before++
		if before > ahead+later {
			t.Fatal("b never got a slot")
		}
	}
	if before != ahead {
		t.Errorf("b's request waited for %d of a's, want the %d ahead of it when it arrived", before, ahead)
	}
	for range later {
		current.release()
		if current = next(); current.account != "a" {
			t.Fatalf("%s got a second slot", current.account)
		}
	}
	current.release()
	if budget.InFlight() != 0 || budget.Waiting() != 0 {
		t.Errorf("after all released: %d in flight, %d waiting", budget.InFlight(), budget.Waiting())
	}
}

// A request takes its account's slot before the budget's: an account at its
// own limit holds no budget slot while it waits, so another account gets it.
func TestAccountSlotBeforeBudget(t *testing.T) {
	budget := NewBudget(2)
	a := testClient(t, Options{Concurrency: 1, Budget: budget})
	b := testClient(t, Options{Concurrency: 1, Budget: budget})
	ctx := context.Background()
	releaseA, err := a.acquire(ctx, request{endpoint: EndpointList, page: 1})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	waited := make(chan error, 1)
	go func() {
		release, err := a.acquire(waitCtx, request{endpoint: EndpointUsage})
		if err == nil {
			release()
		}
		waited <- err
	}()
	waitUntil(t, "a's second request queued on a's slots", func() bool { return a.slots.waiting() == 1 })
	if n := budget.InFlight(); n != 1 {
		t.Errorf("%d budget slots held while a waits for its own slot, want 1 (its first request's)", n)
	}
	guard, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	releaseB, err := b.acquire(guard, request{endpoint: EndpointList, page: 1})
	if err != nil {
		t.Fatalf("b cannot get the budget's free slot while a waits for its own: %v", err)
	}
	releaseB()

	cancel()
	err = <-waited
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonTimeout || !strings.Contains(e.Detail, "account's request slots") {
		t.Errorf("err = %v, want a timeout waiting for the account's slots", err)
	}
	releaseA()
	if a.slots.held() != 0 || budget.InFlight() != 0 {
		t.Errorf("after all released: account %d, budget %d in flight", a.slots.held(), budget.InFlight())
	}
}

// A request that cannot get a budget slot gives its account's slot back.
func TestAccountSlotGivenBackWhenBudgetWaitEnds(t *testing.T) {
	budget := NewBudget(1)
	c := testClient(t, Options{Concurrency: 2, Budget: budget})
	hold, err := budget.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := c.acquire(ctx, request{endpoint: EndpointList, page: 3})
		waited <- err
	}()
	waitUntil(t, "request queued for the budget", func() bool { return budget.Waiting() == 1 })
	if c.slots.held() != 1 {
		t.Fatalf("account slots held while waiting for the budget: %d, want 1", c.slots.held())
	}
	cancel()
	if err := <-waited; !strings.Contains(err.Error(), "request budget") {
		t.Errorf("err = %v, want a timeout waiting for the budget", err)
	}
	if c.slots.held() != 0 || budget.Waiting() != 0 {
		t.Errorf("after the wait ended: %d account slots held, %d waiting for the budget", c.slots.held(), budget.Waiting())
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
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := b.acquire(ctx)
		waited <- err
	}()
	waitUntil(t, "waiter queued", func() bool { return b.Waiting() == 1 })
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire = %v, want the context's error", err)
	}
	if b.Waiting() != 0 {
		t.Errorf("%d still waiting after the context ended", b.Waiting())
	}
	hold()
	if b.InFlight() != 0 {
		t.Fatalf("%d in flight after the only holder released: the cancelled waiter kept a slot", b.InFlight())
	}
	release, err := b.acquire(context.Background())
	if err != nil {
		t.Fatalf("the slot was lost to the cancelled waiter: %v", err)
	}
	release()
}

// A context already ended gets no slot, even a free one.
func TestBudgetEndedContext(t *testing.T) {
	b := NewBudget(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire = %v, want the context's error", err)
	}
	if b.InFlight() != 0 {
		t.Errorf("%d in flight after a refused acquire", b.InFlight())
	}
}

func TestNilBudgetIsUnbounded(t *testing.T) {
	var b *Budget
	release, err := b.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release()
}
