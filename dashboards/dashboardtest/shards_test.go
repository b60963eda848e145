package dashboardtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/discovery/targetgroup"
	yaml2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// The shard test's setup. The shipped files scrape every 60 s with a 30 s
// timeout; the test shortens both (and nothing else) so that a few scrapes
// take seconds. The budget is smaller than what one probe asks for at once
// (the connection list, the numbers and the usage of an account are read
// side by side), so that it is reached, not merely never exceeded.
const (
	shardAccounts       = 200
	shardScrapeInterval = "3s"
	shardScrapeTimeout  = "3s"
	shardBudget         = 2
	shardLatency        = 5 * time.Millisecond
	shardScrapes        = 3 // samples of vocode_up every account must have
)

// TestShards runs examples/probe's two shard configurations in two real
// Prometheus servers against one probe-only exporter of 200 accounts (the
// example's file_sd list, and more): every account must be probed by
// exactly one of them, and up, with both holding some, and the exporter's
// request budget must hold with both scraping. The configurations are the
// shipped files with only the exporter's address and the scrape interval
// rewritten (shardConfig), so this test guards the files users copy.
func TestShards(t *testing.T) {
	promBin := findPrometheus(t)
	if testing.Short() && os.Getenv(e2e.RequireEnv) != "1" {
		t.Skip("shard end-to-end test skipped in -short mode")
	}
	t.Parallel()
	dir := t.TempDir()
	accounts := writeShardAccounts(t, filepath.Join(dir, "vocode_accounts.yml"))

	// One fake API serves every account (the accounts share its URL and
	// key), so its count of requests in flight is the exporter's across
	// all accounts: what the budget bounds.
	const key = "e2e-key-shards"
	fake := vocodetest.NewServer(vocodetest.Dataset(2, 1), vocodetest.WithAPIKey(key),
		vocodetest.WithNumbers(vocodetest.Numbers(2, vocodetest.Dataset(2, 1))), vocodetest.WithLatency(shardLatency))
	t.Cleanup(fake.Close)
	var cfg strings.Builder
	cfg.WriteString("accounts:\n")
	for _, a := range accounts {
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s\n    api_key: %s\n", a, fake.URL, key)
	}
	cfgPath := filepath.Join(dir, "exporter.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	exporter := e2e.Start(t, e2e.Build(t), e2e.Options{Args: []string{"--config.file=" + cfgPath,
		"--web.probe-only", "--vocode.max-requests-in-flight=" + strconv.Itoa(shardBudget)}})

	// Both shards' files beside the file_sd list, which they name by a
	// path relative to themselves.
	var shards []*prometheus
	for i := range 2 {
		name := fmt.Sprintf("prometheus-shard-%d.yml", i)
		shipped, err := os.ReadFile(probeExample(name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := shardConfig(shipped, exporter.Addr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, runPrometheus(t, promBin, path))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A few scrapes of every account somewhere, or the deadline: a broken
	// split never gets there, and the checks below say how it is broken.
	var held []map[string]shardSeries
	deadline := time.Now().Add(time.Minute)
	for {
		held = heldByShard(ctx, t, shards)
		short := scrapedFewer(accounts, held, shardScrapes)
		if len(short) == 0 {
			t.Logf("all %d accounts scraped %d times", len(accounts), shardScrapes)
			break
		}
		if time.Now().After(deadline) {
			// An account without its scrapes by now was not probed as
			// the files say (every interval), whatever the split holds.
			t.Errorf("%d of %d accounts scraped fewer than %d times in a minute: %v",
				len(short), len(accounts), shardScrapes, firstFew(short))
			break
		}
		time.Sleep(time.Second)
	}
	checkSplit(t, accounts, held)

	// The file_sd labels travel with the targets.
	for _, h := range held {
		if s, ok := h["production"]; ok && s.team != "voice" {
			t.Errorf("production has team %q, want the example's voice", s.team)
		}
	}

	// The budget: the fake saw every request of both servers' probes.
	st := fake.Stats()
	t.Logf("the fake served %d requests, at most %d at once; budget %d", st.All.Requests, st.All.MaxInFlight, shardBudget)
	if st.All.MaxInFlight > shardBudget {
		t.Errorf("%d API requests in flight at once, above the budget of %d", st.All.MaxInFlight, shardBudget)
	}
	if st.All.MaxInFlight < shardBudget {
		t.Errorf("at most %d API requests in flight: the budget of %d was never reached, so this run does not show it holding", st.All.MaxInFlight, shardBudget)
	}
	checkExporterJob(ctx, t, shards)
}

// writeShardAccounts writes the example's file_sd list with a group of
// further accounts appended, shardAccounts in all, and returns the names.
// The example's own groups (and their labels) are kept as shipped.
func writeShardAccounts(t *testing.T, path string) []string {
	t.Helper()
	shipped, err := os.ReadFile(probeExample("vocode_accounts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	names := exampleAccounts(t)
	var more []string
	for i := 0; len(names)+len(more) < shardAccounts; i++ {
		more = append(more, fmt.Sprintf("acct-%03d", i))
	}
	b := fmt.Appendf(shipped, "- targets: [%s]\n", strings.Join(more, ", "))
	// The file as Prometheus reads it: every name once.
	var groups []*targetgroup.Group
	if err := yaml2.UnmarshalStrict(b, &groups); err != nil {
		t.Fatalf("the extended file_sd list: %v", err)
	}
	var all []string
	for _, g := range groups {
		for _, tg := range g.Targets {
			all = append(all, string(tg["__address__"]))
		}
	}
	if want := append(names, more...); !slices.Equal(all, want) {
		t.Fatalf("the extended file_sd list names %d accounts, want %d", len(all), len(want))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return all
}

// shardConfig makes a shipped shard configuration runnable here, changing
// only what must change: every occurrence of the example's exporter address
// becomes addr, and the global scrape interval and timeout become the
// test's. The hashmod and keep rules, the file_sd path, the job names and
// the external labels stay as shipped.
func shardConfig(shipped []byte, addr string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(shipped, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("not one YAML document")
	}
	global := mappingValue(doc.Content[0], "global")
	for key, value := range map[string]string{"scrape_interval": shardScrapeInterval, "scrape_timeout": shardScrapeTimeout} {
		v := mappingValue(global, key)
		if v == nil || v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("no global.%s to shorten", key)
		}
		v.Value = value
	}
	if n := replaceScalars(&doc, exporterAddress, addr); n == 0 {
		return nil, fmt.Errorf("the exporter's address %s appears nowhere", exporterAddress)
	}
	return yaml.Marshal(&doc)
}

// mappingValue is the value of key in mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// replaceScalars replaces every scalar equal to from with to, and counts them.
func replaceScalars(n *yaml.Node, from, to string) int {
	count := 0
	if n.Kind == yaml.ScalarNode && n.Value == from {
		n.Value = to
		count++
	}
	for _, c := range n.Content {
		count += replaceScalars(c, from, to)
	}
	return count
}

// shardSeries is what one server holds of one account's vocode_up.
type shardSeries struct {
	samples  int    // over the last five minutes
	last     string // the latest value
	instance string
	team     string
}

// heldByShard asks each server for the accounts it holds vocode_up of.
func heldByShard(ctx context.Context, t *testing.T, shards []*prometheus) []map[string]shardSeries {
	t.Helper()
	held := make([]map[string]shardSeries, len(shards))
	for i, p := range shards {
		held[i] = map[string]shardSeries{}
		counts, err := p.query(ctx, `count_over_time(vocode_up{job="vocode"}[5m])`)
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		lasts, err := p.query(ctx, `last_over_time(vocode_up{job="vocode"}[5m])`)
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		for _, r := range lasts.Result {
			held[i][r.Metric["account"]] = shardSeries{last: sampleValue(r.Value),
				instance: r.Metric["instance"], team: r.Metric["team"]}
		}
		for _, r := range counts.Result {
			s := held[i][r.Metric["account"]]
			s.samples, _ = strconv.Atoi(sampleValue(r.Value))
			held[i][r.Metric["account"]] = s
		}
	}
	return held
}

// sampleValue is the value of an instant query's sample, [time, "value"].
func sampleValue(v []any) string {
	if len(v) != 2 {
		return ""
	}
	s, _ := v[1].(string)
	return s
}

// checkSplit: every account on exactly one server, up there, with itself
// as the instance; both servers hold some.
// scrapedFewer lists the accounts with fewer than n samples of vocode_up
// on every shard (none at all for an account never scraped).
func scrapedFewer(accounts []string, held []map[string]shardSeries, n int) []string {
	var short []string
	for _, a := range accounts {
		if !slices.ContainsFunc(held, func(h map[string]shardSeries) bool { return h[a].samples >= n }) {
			short = append(short, a)
		}
	}
	return short
}

func checkSplit(t *testing.T, accounts []string, held []map[string]shardSeries) {
	t.Helper()
	var missing, doubled, down []string
	for _, a := range accounts {
		var on []int
		for i, h := range held {
			if s, ok := h[a]; ok {
				on = append(on, i)
				if s.last != "1" || s.instance != a {
					down = append(down, fmt.Sprintf("%s on shard %d: vocode_up %s, instance %q", a, i, s.last, s.instance))
				}
			}
		}
		switch len(on) {
		case 0:
			missing = append(missing, a)
		case 1:
		default:
			doubled = append(doubled, a)
		}
	}
	perShard := make([]int, len(held))
	for i, h := range held {
		perShard[i] = len(h)
		for a := range h {
			if !slices.Contains(accounts, a) {
				t.Errorf("shard %d holds vocode_up of %q, an account nobody listed", i, a)
			}
		}
	}
	t.Logf("accounts per shard: %v", perShard)
	if len(missing) > 0 {
		t.Errorf("%d accounts on no server: %v", len(missing), firstFew(missing))
	}
	if len(doubled) > 0 {
		t.Errorf("%d accounts on both servers: %v", len(doubled), firstFew(doubled))
	}
	if len(down) > 0 {
		t.Errorf("%d accounts not up: %v", len(down), firstFew(down))
	}
	if slices.Contains(perShard, 0) {
		t.Errorf("accounts per shard %v: a server holds none", perShard)
	}
}

func firstFew(s []string) []string { return s[:min(len(s), 5)] }

// checkExporterJob: shard 0 alone scrapes the exporter's own metrics, as
// the files say, and the budget gauge it scraped never went above the
// budget (a sample every interval sees less than the fake's count did).
func checkExporterJob(ctx context.Context, t *testing.T, shards []*prometheus) {
	t.Helper()
	for i, p := range shards {
		r, err := p.query(ctx, `up{job="vocode_exporter"}`)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[i == 0]; len(r.Result) != want {
			t.Errorf("shard %d has %d vocode_exporter targets, want %d", i, len(r.Result), want)
		}
	}
	r, err := shards[0].query(ctx, `max_over_time(vocode_exporter_api_requests_in_flight[5m])`)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Result) != 1 {
		t.Fatalf("shard 0 holds %d vocode_exporter_api_requests_in_flight series, want 1", len(r.Result))
	}
	got, err := strconv.ParseFloat(sampleValue(r.Result[0].Value), 64)
	if err != nil || got > shardBudget {
		t.Errorf("vocode_exporter_api_requests_in_flight reached %v (%v), budget %d", got, err, shardBudget)
	}
	t.Logf("vocode_exporter_api_requests_in_flight in shard 0's samples: at most %v", got)
}
