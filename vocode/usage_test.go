package vocode_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

func usageStats(s *vocodetest.Server) vocodetest.EndpointStats {
	return s.Stats().Endpoints[vocodetest.EndpointUsage]
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name  string
		usage vocodetest.Usage
		want  vocode.Usage
	}{
		{"enterprise with a limit", vocodetest.Usage{Plan: "plan_enterprise", Minutes: 4213, LimitMinutes: 10000, HasLimit: true},
			vocode.Usage{Plan: vocode.PlanEnterprise, Minutes: 4213, LimitMinutes: 10000, HasLimit: true}},
		{"no limit", vocodetest.Usage{Plan: "plan_unlimited", Minutes: 1 << 40},
			vocode.Usage{Plan: vocode.PlanUnlimited, Minutes: 1 << 40}},
		{"a plan of the future", vocodetest.Usage{Plan: "plan_team\r\n", Minutes: 3},
			vocode.Usage{Plan: "team", Minutes: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, nil, vocodetest.WithUsage(tt.usage))
			got, err := newClient(t, s, vocode.Options{}).Usage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
			if n := usageStats(s).Requests; n != 1 || s.Stats().All.Requests != 1 {
				t.Errorf("%d usage requests, %d in all; want 1", n, s.Stats().All.Requests)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	retryAfter0 := http.Header{"Retry-After": {"0"}}
	const token = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name         string
		fault        vocodetest.Fault
		usage        string // served verbatim, if set
		key          string
		timeout      time.Duration
		want         vocode.Reason
		wantStatus   int
		wantRequests int
		wantDetail   string
	}{
		{name: "wrong key", key: "wrong", want: vocode.ReasonAuth, wantStatus: 401, wantRequests: 1, wantDetail: "Invalid API key"},
		{name: "no key accepted", fault: vocodetest.Fault{Status: 403, Body: `{"detail":"Not authenticated"}`},
			want: vocode.ReasonAuth, wantStatus: 403, wantRequests: 1, wantDetail: "Not authenticated"},
		{name: "429 retried twice", fault: vocodetest.Fault{Status: 429, Header: retryAfter0}, want: vocode.ReasonRateLimited, wantStatus: 429, wantRequests: 3},
		{name: "500 retried twice", fault: vocodetest.Fault{Status: 500}, want: vocode.ReasonServerError, wantStatus: 500, wantRequests: 3},
		{name: "502 html from a proxy", fault: vocodetest.Fault{Status: 502, Body: "<html>bad gateway</html>", Header: http.Header{"Content-Type": {"text/html"}}},
			want: vocode.ReasonServerError, wantStatus: 502, wantRequests: 3, wantDetail: "non-JSON body of 24 bytes"},
		{name: "404", fault: vocodetest.Fault{Status: 404}, want: vocode.ReasonClientError, wantStatus: 404, wantRequests: 1},
		{name: "reset mid-body, retried", fault: vocodetest.Fault{Handler: vocodetest.ResetMidBody()}, want: vocode.ReasonTransport, wantStatus: 200, wantRequests: 3},
		{name: "hanging API", fault: vocodetest.Fault{Hang: true}, timeout: 200 * time.Millisecond, want: vocode.ReasonTimeout, wantRequests: 1},
		{name: "a token echoed in a detail", fault: vocodetest.Fault{Status: 400, Body: `{"detail":"twilio token ` + token + ` rejected"}`},
			want: vocode.ReasonClientError, wantStatus: 400, wantRequests: 1, wantDetail: "twilio token <redacted> rejected"},
		{name: "minutes missing", usage: `{"user_id":"u","plan_type":"plan_free"}`,
			want: vocode.ReasonDecode, wantStatus: 200, wantRequests: 1, wantDetail: "usage report has no monthly_usage_minutes"},
		{name: "minutes not an integer", usage: `{"user_id":"u","plan_type":"plan_free","monthly_usage_minutes":2.5}`,
			want: vocode.ReasonDecode, wantStatus: 200, wantRequests: 1, wantDetail: `"monthly_usage_minutes" holds a number where an integer was expected`},
		{name: "plan missing", usage: `{"user_id":"u","monthly_usage_minutes":2}`,
			want: vocode.ReasonDecode, wantStatus: 200, wantRequests: 1, wantDetail: "usage report has no plan_type"},
		{name: "a page instead", usage: `{"items":[],"has_more":false}`,
			want: vocode.ReasonDecode, wantStatus: 200, wantRequests: 1, wantDetail: "usage report has no plan_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []vocodetest.Option
			if tt.usage != "" {
				opts = append(opts, vocodetest.WithUsage(vocodetest.Usage{Raw: json.RawMessage(tt.usage)}))
			}
			s := newServer(t, vocodetest.Dataset(1, 1), opts...)
			if f := tt.fault; f.Status != 0 || f.Handler != nil || f.Hang {
				tt.fault.Endpoint = vocodetest.EndpointUsage
				s.AddFault(tt.fault)
			}
			// Faults of the lists leave usage alone.
			s.AddFault(vocodetest.Fault{Status: 418})
			s.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointNumbers, Status: 418})
			key := s.APIKey
			if tt.key != "" {
				key = tt.key
			}
			c, err := vocode.New(s.URL, key, vocode.Options{Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			u, err := c.Usage(ctx)
			var ve *vocode.Error
			if u != nil || !errors.As(err, &ve) || ve.Reason != tt.want || ve.Endpoint != vocode.EndpointUsage || ve.Page != 0 {
				t.Fatalf("got %v, %#v (%v); want a %s error of %s", u, err, err, tt.want, vocode.EndpointUsage)
			}
			if ve.Status != tt.wantStatus {
				t.Errorf("status %d, want %d", ve.Status, tt.wantStatus)
			}
			if !strings.HasPrefix(err.Error(), "usage: "+string(tt.want)) || strings.Contains(err.Error(), "page") {
				t.Errorf("err = %q, want it to start \"usage: %s\" and name no page", err, tt.want)
			}
			if n := usageStats(s).Requests; n != tt.wantRequests {
				t.Errorf("requests = %d, want %d", n, tt.wantRequests)
			}
			if tt.wantDetail != "" && !strings.Contains(err.Error(), tt.wantDetail) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantDetail)
			}
			for _, secret := range []string{s.APIKey, token[:8]} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %q", err, secret)
				}
			}
		})
	}
}

// A rate limit that lifts is waited out, as Retry-After says.
func TestUsageRetryAfter(t *testing.T) {
	s := newServer(t, nil, vocodetest.WithUsage(vocodetest.Usage{Plan: "plan_free", Minutes: 7}))
	s.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointUsage, Times: 1, Status: 429, Header: http.Header{"Retry-After": {"1"}}})
	start := time.Now()
	u, err := newClient(t, s, vocode.Options{}).Usage(context.Background())
	if err != nil || u.Minutes != 7 {
		t.Fatalf("got %+v, %v; want 7 minutes", u, err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("took %v, want at least the 1s Retry-After", waited)
	}
	if n := usageStats(s).Requests; n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestUsageObserver(t *testing.T) {
	s := newServer(t, nil)
	s.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointUsage, Times: 1, Status: 500})
	var seen []string
	c := newClient(t, s, vocode.Options{Observer: func(endpoint, code string, _ time.Duration) {
		seen = append(seen, endpoint+" "+code)
	}})
	if _, err := c.Usage(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(seen, ","), "usage 500,usage 200"; got != want {
		t.Errorf("observed %s, want %s", got, want)
	}
}

// Usage waits for a slot of the budget like any request, and gives up when
// its context ends first.
func TestUsageWaitsForTheBudget(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(1, 1))
	s.AddFault(vocodetest.Fault{Hang: true})
	budget := vocode.NewBudget(1)
	c := newClient(t, s, vocode.Options{Budget: budget})
	walkCtx, stopWalk := context.WithCancel(context.Background())
	walked := make(chan struct{})
	go func() {
		defer close(walked)
		_, _ = c.Walk(walkCtx)
	}()
	for budget.InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Usage(ctx)
	stopWalk()
	<-walked
	if vocode.ReasonOf(err) != vocode.ReasonTimeout || !strings.Contains(err.Error(), "request budget") {
		t.Errorf("err = %v, want a timeout waiting for the budget", err)
	}
	if n := usageStats(s).Requests; n != 0 {
		t.Errorf("%d usage requests reached the API past the budget", n)
	}
}

// The fake names its endpoints as the client does, so that faults, stats
// and observed requests agree.
func TestEndpointNamesAgree(t *testing.T) {
	for fake, client := range map[string]string{
		vocodetest.EndpointConnections: vocode.EndpointList,
		vocodetest.EndpointNumbers:     vocode.EndpointNumbers,
		vocodetest.EndpointUsage:       vocode.EndpointUsage,
	} {
		if fake != client {
			t.Errorf("the fake names %q what the client names %q", fake, client)
		}
	}
}

// Every endpoint draws on the same request budget.
func TestEndpointsShareTheBudget(t *testing.T) {
	s, _ := numbersServer(t, 400, vocodetest.WithLatency(10*time.Millisecond))
	s.SetConnections(vocodetest.Dataset(200, 200))
	budget := vocode.NewBudget(3)
	c := newClient(t, s, vocode.Options{PageSize: 10, Concurrency: 4, Budget: budget})
	errs := make(chan error, 3)
	go func() { _, err := c.Walk(context.Background()); errs <- err }()
	go func() { _, err := c.WalkNumbers(context.Background()); errs <- err }()
	go func() { _, err := c.Usage(context.Background()); errs <- err }()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.All.MaxInFlight > 3 || st.All.MaxInFlight < 2 {
		t.Errorf("%d requests at once across endpoints, want 2..3 with a budget of 3", st.All.MaxInFlight)
	}
	if st.Requests != 40 || st.Endpoints[vocodetest.EndpointNumbers].Requests != 40 || st.Endpoints[vocodetest.EndpointUsage].Requests != 1 {
		t.Errorf("requests: %d connection pages, %d number pages, %d usage; want 40, 40, 1", st.Requests,
			st.Endpoints[vocodetest.EndpointNumbers].Requests, st.Endpoints[vocodetest.EndpointUsage].Requests)
	}
}
