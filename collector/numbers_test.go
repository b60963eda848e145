package collector

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

var allCollectors = account.Enabled{Usage: true, Numbers: true, Agents: true}

// numbersAndUsage is what the fake serves besides the connections: a
// number on a listed connection, one on a connection that is gone, a
// Vonage one without connection and without agent, and a limited plan.
func numbersAndUsage(conns []vocodetest.Connection) []vocodetest.Option {
	return []vocodetest.Option{
		vocodetest.WithNumbers([]vocodetest.Number{
			{ID: "n1", Number: "+15550001", Label: "sales", Provider: vocodetest.ProviderTwilio, Active: true,
				ConnectionID: conns[0].ID, InboundAgent: "agent-1"},
			{ID: "n2", Number: "+15550002", Label: "support\tline", Provider: vocodetest.ProviderTwilio, Active: true,
				ConnectionID: "gone-connection", InboundAgent: "agent-2"},
			{ID: "n3", Number: "+15550003", Provider: vocodetest.ProviderVonage, Active: false, OutboundOnly: true},
		}),
		vocodetest.WithUsage(vocodetest.Usage{Plan: "plan_enterprise", Minutes: 950, LimitMinutes: 1000, HasLimit: true}),
		vocodetest.WithAgents(vocodetest.Agents(3)),
	}
}

// TestCollectNumbersAndUsage: the series of the usage and numbers
// collectors, next to the connection list's, with expected connections.
func TestCollectNumbersAndUsage(t *testing.T) {
	conns := vocodetest.Dataset(2, 1)
	f := newCollectingFixture(t, "prod", allCollectors, conns, numbersAndUsage(conns)...)
	f.setConfig(t, entry("prod", f.api)+"    expected_connections: {twilio: 3, telnyx: 1}\n")
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	err := testutil.CollectAndCompare(f.collect(context.Background()), golden(t, "numbers_usage.prom"),
		"vocode_up", "vocode_account_connections", "vocode_account_connections_expected", "vocode_scrape_collector_success",
		"vocode_usage_minutes", "vocode_usage_limit_minutes", "vocode_plan_info",
		"vocode_numbers", "vocode_number_info", "vocode_number_active", "vocode_number_outbound_only", "vocode_number_inbound_agent")
	if err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(f.collect(context.Background())); err != nil {
		t.Error(err)
	} else {
		// Minutes are the API's unit, and the names the issue fixed.
		for _, p := range problems {
			if !strings.HasPrefix(p.Metric, "vocode_usage_") || !strings.Contains(p.Text, "base unit") {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		}
	}
}

// The collectors fail apart: each failure costs its own series, counts
// under its own collector and leaves the others whole.
func TestCollectorsFailApart(t *testing.T) {
	tests := []struct {
		name     string
		fault    vocodetest.Fault
		failing  string
		absent   []string // series that must go with the failure
		reason   vocode.Reason
		wantUp   float64
		presentS []string // series that must stay
	}{
		{"usage fails", vocodetest.Fault{Endpoint: vocodetest.EndpointUsage, Status: http.StatusForbidden},
			account.CollectorUsage, []string{"vocode_usage_minutes", "vocode_usage_limit_minutes", "vocode_plan_info"}, vocode.ReasonAuth, 1,
			[]string{"vocode_account_connection_info", "vocode_number_info"}},
		{"numbers fail", vocodetest.Fault{Endpoint: vocodetest.EndpointNumbers, Status: http.StatusInternalServerError},
			account.CollectorNumbers, []string{"vocode_numbers", "vocode_number_info", "vocode_number_active"}, vocode.ReasonServerError, 1,
			[]string{"vocode_account_connection_info", "vocode_usage_minutes", "vocode_agent_info"}},
		{"agents fail", vocodetest.Fault{Endpoint: vocodetest.EndpointAgents, Status: http.StatusTooManyRequests},
			account.CollectorAgents, []string{"vocode_agents", "vocode_agent_info"}, vocode.ReasonRateLimited, 1,
			[]string{"vocode_account_connection_info", "vocode_usage_minutes", "vocode_number_info"}},
		{"connections fail", vocodetest.Fault{Status: http.StatusInternalServerError},
			account.CollectorConnections, []string{"vocode_account_connection_info", "vocode_account_connections"}, vocode.ReasonServerError, 0,
			[]string{"vocode_number_info", "vocode_usage_minutes", "vocode_account_connections_expected", "vocode_agents"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns := vocodetest.Dataset(2, 1)
			f := newCollectingFixture(t, "prod", allCollectors, conns, numbersAndUsage(conns)...)
			f.setConfig(t, entry("prod", f.api)+"    expected_connections: {twilio: 3}\n")
			if err := f.accounts.Reload(); err != nil {
				t.Fatal(err)
			}
			f.api.AddFault(tt.fault)
			mfs := gather(t, f.collect(context.Background()))
			names := map[string]bool{}
			for _, mf := range mfs {
				names[mf.GetName()] = true
			}
			for _, n := range tt.absent {
				if names[n] {
					t.Errorf("%s is exported though its collector failed", n)
				}
			}
			for _, n := range tt.presentS {
				if !names[n] {
					t.Errorf("%s is missing though its collector succeeded", n)
				}
			}
			if up := upOf(mfs, "prod"); up != tt.wantUp {
				t.Errorf("vocode_up = %v, want %v", up, tt.wantUp)
			}
			m := metricsOf(f.account(t, "prod"))
			for _, c := range allCollectors.Names() {
				want := 0.0
				if c == tt.failing {
					want = 1
				}
				if got := testutil.ToFloat64(m.scrapeErrors.WithLabelValues(c, string(tt.reason))); got != want {
					t.Errorf("errors{collector=%s, reason=%s} = %v, want %v", c, tt.reason, got, want)
				}
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "collector="+tt.failing+" reason="+string(tt.reason)) || strings.Count(logs, "level=ERROR") != 1 {
				t.Errorf("want one error line for collector %s:\n%s", tt.failing, logs)
			}
		})
	}
}

// Turned-off collectors send no request and no series, and count nothing.
func TestCollectorsOff(t *testing.T) {
	conns := vocodetest.Dataset(2, 1)
	f := newCollectingFixture(t, "prod", account.Enabled{}, conns, numbersAndUsage(conns)...)
	mfs := gather(t, f.collect(context.Background()))
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "vocode_number") || strings.HasPrefix(mf.GetName(), "vocode_usage") || strings.HasPrefix(mf.GetName(), "vocode_call") || strings.HasPrefix(mf.GetName(), "vocode_agent") {
			t.Errorf("%s exported with its collector off", mf.GetName())
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "collector" && lp.GetValue() != account.CollectorConnections {
					t.Errorf("%s has a series of the %s collector, which is off", mf.GetName(), lp.GetValue())
				}
			}
		}
	}
	s := f.api.Stats()
	if s.Endpoints[vocodetest.EndpointNumbers].Requests+s.Endpoints[vocodetest.EndpointUsage].Requests+s.Endpoints[vocodetest.EndpointAgents].Requests != 0 {
		t.Errorf("collectors that are off made requests: %+v", s.Endpoints)
	}
}
