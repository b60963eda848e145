package account

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// Recorder keeps the series of one account that outlive a scrape: what its
// requests did and how its scrapes failed. The account owns it, so a walk
// that ends after its account was removed moves counters nobody gathers any
// more. The collector package makes them (Options.NewRecorder); this
// package only feeds them.
type Recorder interface {
	prometheus.Collector
	// ObserveRequest is the account's vocode.RequestObserver.
	ObserveRequest(endpoint, code string, d time.Duration)
	// CountFailure counts one scrape in which collector failed.
	CountFailure(collector string, reason vocode.Reason)
}

// nopRecorder records nothing, for a Set built without NewRecorder.
type nopRecorder struct{}

func (nopRecorder) Describe(chan<- *prometheus.Desc)             {}
func (nopRecorder) Collect(chan<- prometheus.Metric)             {}
func (nopRecorder) ObserveRequest(string, string, time.Duration) {}
func (nopRecorder) CountFailure(string, vocode.Reason)           {}
