package e2e_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// The lifecycle of an account's series and walks, seen from outside: the
// real binary, its config file, reloads and scrapes with Prometheus'
// timeout header. Each test starts a walk that the fake API holds back, then
// does to the exporter what a reload or a second Prometheus would do while
// that walk is in flight.

// scrapeTimeout scrapes /metrics as a Prometheus with the given scrape
// timeout would: X-Prometheus-Scrape-Timeout-Seconds.
func scrapeTimeout(t *testing.T, exp *e2e.Exporter, timeout string) map[string]*dto.MetricFamily {
	t.Helper()
	_, mfs := scrapeWith(t, exp, map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": timeout})
	return mfs
}

// scrapeLater starts a scrape in the background, with Prometheus' timeout
// header unless timeout is empty, and returns a function that waits for it.
// Failures are reported with t.Errorf: t.Fatal belongs to the test goroutine.
func scrapeLater(t testing.TB, exp *e2e.Exporter, timeout string) (wait func() map[string]*dto.MetricFamily) {
	var wg sync.WaitGroup
	var mfs map[string]*dto.MetricFamily
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, exp.URL+"/metrics", nil)
		if timeout != "" {
			req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("background scrape: %v", err)
			return
		}
		defer resp.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		if mfs, err = p.TextToMetricFamilies(resp.Body); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("background scrape: %d %v", resp.StatusCode, err)
		}
	})
	return func() map[string]*dto.MetricFamily {
		wg.Wait()
		if mfs == nil {
			t.FailNow()
		}
		return mfs
	}
}

// accountSeries lists the series, of any name, whose account label is acct.
func accountSeries(mfs map[string]*dto.MetricFamily, acct string) []string {
	var out []string
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "account" && lp.GetValue() == acct {
					out = append(out, name)
				}
			}
		}
	}
	return out
}

// TestRemovedAccountStaysGone removes an account by reload while its walk
// is in flight. The walk still finishes (its requests are answered after the
// reload); no series of the removed account may come back afterwards.
func TestRemovedAccountStaysGone(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	slow := vocodetest.NewServer(vocodetest.Dataset(2, 1), vocodetest.WithAPIKey(canaryKey),
		vocodetest.WithLatency(1500*time.Millisecond))
	t.Cleanup(slow.Close)
	kept := vocodetest.NewServer(vocodetest.Dataset(1, 1), vocodetest.WithAPIKey(canaryKey2))
	t.Cleanup(kept.Close)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	removed := account{"removed", slow.URL, writeFile(t, dir, "removed.key", canaryKey)}
	control := account{controlName, kept.URL, writeFile(t, dir, "control.key", canaryKey2)}
	writeConfig(t, cfg, removed, control)
	exp := e2e.Start(t, bin, e2e.Options{Args: []string{"--config.file=" + cfg}})

	wait := scrapeLater(t, exp, "")
	waitFor(t, "the removed account's walk to reach the API", func() bool { return slow.Stats().Requests > 0 })
	writeConfig(t, cfg, control)
	if code, answer := postReload(t, exp); code != http.StatusOK {
		t.Fatalf("POST /-/reload answered %d %q", code, answer)
	}
	wait() // the walk of the removed account has ended: its requests were answered

	for range 2 {
		_, mfs := scrape(t, exp)
		if got := accountSeries(mfs, "removed"); len(got) > 0 {
			t.Fatalf("after the reload removed the account, a scrape still serves its series: %v", got)
		}
		mustUp(t, mfs, controlName, 1)
	}
}

// TestSharedWalkKeepsLaterDeadline: a scrape with a 10 s timeout joins a
// walk started by a scrape with a 0.6 s timeout. The walk takes about 1 s;
// the short scrape gives up, the long one must get the walk's result.
func TestSharedWalkKeepsLaterDeadline(t *testing.T) {
	t.Parallel()
	api, exp := slowAccount(t)

	wait := scrapeLater(t, exp, "0.6")
	waitFor(t, "the short scrape's walk to reach the API", func() bool { return api.Stats().Requests > 0 })
	long := scrapeTimeout(t, exp, "10")
	short := wait()

	mustUp(t, short, "default", 0)
	mustUp(t, long, "default", 1)
	if got := mustValue(t, long, "vocode_account_connections", "account", "default", "type", "twilio"); got != 3 {
		t.Errorf("the long scrape saw %v twilio connections, want 3", got)
	}
	if got := api.Stats().Requests; got != 1 {
		t.Errorf("the API got %d requests; the long scrape should have shared the one walk", got)
	}
}

// TestScrapeTimeoutCountedOnce: every scrape that answers vocode_up 0
// because its deadline passed counts one timeout, whether it started the
// walk or joined one that outlives it.
func TestScrapeTimeoutCountedOnce(t *testing.T) {
	t.Parallel()
	api, exp := slowAccount(t)

	// A long scrape starts the walk; a short one joins it and gives up.
	wait := scrapeLater(t, exp, "10")
	waitFor(t, "the long scrape's walk to reach the API", func() bool { return api.Stats().Requests > 0 })
	short := scrapeTimeout(t, exp, "0.4")
	long := wait()
	mustUp(t, short, "default", 0)
	mustUp(t, long, "default", 1)
	if got := mustValue(t, long, "vocode_scrape_errors_total", "account", "default", "collector", "connections", "reason", "timeout"); got != 1 {
		t.Errorf("after one scrape gave up waiting, timeouts = %v, want 1", got)
	}

	// A short scrape alone: its walk times out with it; still one count.
	short = scrapeTimeout(t, exp, "0.4")
	mustUp(t, short, "default", 0)
	if got := mustValue(t, short, "vocode_scrape_errors_total", "account", "default", "collector", "connections", "reason", "timeout"); got != 2 {
		t.Errorf("after a second timed-out scrape, timeouts = %v, want 2", got)
	}
	for reason, n := range reasonCounts(t, short, "default") {
		if reason != "timeout" && n != 0 {
			t.Errorf("%s counted %v times, want 0", reason, n)
		}
	}
}

// TestReloadKeepsOneWalkPerAccount reloads while a walk is in flight. With
// the account's URL and key unchanged, a scrape after the reload shares the
// walk: the API sees one. With a new URL, it must not be handed the old
// configuration's result: a second walk goes to the new API.
func TestReloadKeepsOneWalkPerAccount(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	first := vocodetest.NewServer(vocodetest.Dataset(3, 2), vocodetest.WithAPIKey(canaryKey),
		vocodetest.WithLatency(time.Second))
	t.Cleanup(first.Close)
	second := vocodetest.NewServer(vocodetest.Dataset(5, 2), vocodetest.WithAPIKey(canaryKey),
		vocodetest.WithLatency(300*time.Millisecond))
	t.Cleanup(second.Close)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	key := writeFile(t, dir, "victim.key", canaryKey)
	writeConfig(t, cfg, account{accountName, first.URL, key})
	exp := e2e.Start(t, bin, e2e.Options{Args: []string{"--config.file=" + cfg}})

	reloadDuringWalk := func(next string) (before, after map[string]*dto.MetricFamily) {
		t.Helper()
		wait := scrapeLater(t, exp, "")
		waitFor(t, "the walk to reach the API", func() bool { return first.Stats().Requests > 0 })
		writeConfig(t, cfg, account{accountName, next, key})
		if code, answer := postReload(t, exp); code != http.StatusOK {
			t.Fatalf("POST /-/reload answered %d %q", code, answer)
		}
		_, after = scrape(t, exp)
		return wait(), after
	}

	t.Run("same URL and key", func(t *testing.T) {
		before, after := reloadDuringWalk(first.URL)
		mustUp(t, before, accountName, 1)
		mustUp(t, after, accountName, 1)
		if s := first.Stats(); s.Requests != 1 || s.MaxInFlight != 1 {
			t.Errorf("the API got %d requests, %d at once; the reload should not start a second walk", s.Requests, s.MaxInFlight)
		}
	})
	first.ResetStats()
	t.Run("new URL", func(t *testing.T) {
		before, after := reloadDuringWalk(second.URL)
		mustUp(t, before, accountName, 1)
		mustUp(t, after, accountName, 1)
		if got := mustValue(t, after, "vocode_account_connections", "account", accountName, "type", "twilio"); got != 5 {
			t.Errorf("the scrape after the reload saw %v twilio connections: the old API's list (3), not the new one's (5)", got)
		}
		if got := second.Stats().Requests; got != 1 {
			t.Errorf("the new API got %d requests, want 1", got)
		}
		if got := first.Stats().Requests; got != 1 {
			t.Errorf("the old API got %d requests, want 1 (the walk begun before the reload)", got)
		}
	})
	if t.Failed() {
		t.Logf("log:\n%s", strings.TrimSpace(exp.Logs()))
	}
}

// slowAccount starts an exporter of the flags' account on an API that
// answers every request after a second, with a 0.1 s timeout offset.
func slowAccount(t *testing.T) (*vocodetest.Server, *e2e.Exporter) {
	t.Helper()
	api := vocodetest.NewServer(vocodetest.Dataset(3, 2), vocodetest.WithAPIKey(canaryKey),
		vocodetest.WithLatency(time.Second))
	t.Cleanup(api.Close)
	exp := e2e.Start(t, e2e.Build(t), e2e.Options{
		Args: []string{"--vocode.url=" + api.URL, "--vocode.timeout-offset=0.1s"},
		Env:  []string{"VOCODE_API_KEY=" + canaryKey},
	})
	return api, exp
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
