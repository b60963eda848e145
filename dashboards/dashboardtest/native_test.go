package dashboardtest

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nativeSetup is how a Prometheus version is told to ingest native
// histograms while keeping the classic buckets of the same histogram, which
// the dashboard and the latency alert read.
type nativeSetup struct {
	supported bool
	// classicKept says whether this version can keep the classic buckets
	// of a histogram that also has native ones.
	classicKept bool
	flags       []string
	// scrapeConfig are lines added to every scrape job.
	scrapeConfig []string
}

// nativeHistogramSetup follows the Prometheus documentation and changelogs
// (README.md, "Native histograms", lists them):
//   - 2.40 brought native histograms behind --enable-feature=native-histograms,
//     which also makes Prometheus ask for the protobuf format that carries
//     them. A histogram with native buckets is then ingested as a native
//     histogram only: its classic buckets are dropped.
//   - 2.45 added scrape_classic_histograms, to ingest both.
//   - 3.0 renamed it always_scrape_classic_histograms.
//   - 3.8 made native histograms stable, ingested where
//     scrape_native_histograms is true (the flag only sets its default);
//     3.9 made the flag a no-op. With scrape_native_histograms, Prometheus
//     asks for the protobuf format first.
//
// Only the branch for the Prometheus that runs the test is exercised: Debian
// 12's is 2.42.
func nativeHistogramSetup(v [3]int) nativeSetup {
	const flag = "--enable-feature=native-histograms"
	at := func(major, minor int) bool { return v[0] > major || (v[0] == major && v[1] >= minor) }
	switch {
	case at(3, 8):
		return nativeSetup{supported: true, classicKept: true,
			scrapeConfig: []string{"scrape_native_histograms: true", "always_scrape_classic_histograms: true"}}
	case at(3, 0):
		return nativeSetup{supported: true, classicKept: true, flags: []string{flag},
			scrapeConfig: []string{"always_scrape_classic_histograms: true"}}
	case at(2, 45):
		return nativeSetup{supported: true, classicKept: true, flags: []string{flag},
			scrapeConfig: []string{"scrape_classic_histograms: true"}}
	case at(2, 40):
		return nativeSetup{supported: true, flags: []string{flag}}
	}
	return nativeSetup{}
}

// apply adds the setup's lines to every job of scrape configs written as
// the scrape modes write them ("  - job_name: ...", settings indented by
// four spaces).
func (n nativeSetup) apply(scrapeConfigs string) string {
	if len(n.scrapeConfig) == 0 {
		return scrapeConfigs
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(scrapeConfigs, "\n") {
		b.WriteString(line)
		if strings.HasPrefix(line, "  - job_name:") {
			for _, c := range n.scrapeConfig {
				b.WriteString("    " + c + "\n")
			}
		}
	}
	return b.String()
}

var versionRE = regexp.MustCompile(`version (\d+)\.(\d+)\.(\d+)`)

// prometheusVersion reads `prometheus --version`.
func prometheusVersion(t *testing.T, bin string) [3]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("prometheus --version: %v\n%s", err, out)
	}
	m := versionRE.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("prometheus --version says no version:\n%s", out)
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v
}

// nativeQuantile is the query README.md gives for the latency from the
// native histogram: no _bucket suffix, no le.
const nativeQuantile = `histogram_quantile(0.9, sum by (account) (rate(vocode_api_request_duration_seconds[1m])))`

// checkNativeHistograms proves that Prometheus stores the API latency as a
// native histogram for every account, that the quantile query over it
// returns a latency per account, and whether the classic buckets came along
// as the setup says they do.
func checkNativeHistograms(t *testing.T, prom *prometheus, setup nativeSetup) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	waitFor(ctx, t, "the latency of every account stored as a native histogram", func() error {
		r, err := prom.query(ctx, `vocode_api_request_duration_seconds`)
		if err != nil {
			return err
		}
		native := map[string]bool{}
		for _, s := range r.Result {
			if len(s.Histogram) == 2 {
				native[s.Metric["account"]] = true
			}
		}
		if len(native) != len(fakeAccounts) {
			return fmt.Errorf("native histogram samples for %d accounts %v, want %d", len(native), native, len(fakeAccounts))
		}
		return nil
	})

	waitFor(ctx, t, nativeQuantile, func() error {
		r, err := prom.query(ctx, nativeQuantile)
		if err != nil {
			return err
		}
		if len(r.Result) != len(fakeAccounts) {
			return fmt.Errorf("%d series, want one per account (%d)", len(r.Result), len(fakeAccounts))
		}
		for _, s := range r.Result {
			v := math.NaN()
			if len(s.Value) == 2 {
				str, _ := s.Value[1].(string)
				v, _ = strconv.ParseFloat(str, 64)
			}
			// The fake APIs answer on loopback: well under a second.
			if !(v > 0 && v < 5) {
				return fmt.Errorf("account %s: p90 latency %v, want a positive number of seconds", s.Metric["account"], s.Value)
			}
		}
		return nil
	})

	classic := prom.expectNonEmpty(ctx, `vocode_api_request_duration_seconds_bucket`)
	switch {
	case setup.classicKept && classic != nil:
		t.Errorf("classic buckets next to the native histogram: %v", classic)
	case !setup.classicKept && classic == nil:
		t.Errorf("this Prometheus kept the classic buckets next to the native histogram, which README.md says it cannot: update nativeHistogramSetup and the README")
	case !setup.classicKept:
		t.Logf("as README.md says, this Prometheus drops the classic buckets of a histogram it ingests as native: the dashboard is checked in the other modes")
	}
}
