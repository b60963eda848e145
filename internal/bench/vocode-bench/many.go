package main

// The many-accounts part: one exporter serving many accounts at once, through
// /metrics (one scrape walks them all) and through /probe (one request per
// account, all at once), against the floor that the request budget
// (--vocode.max-requests-in-flight) sets.
//
// Every account of the exporter's config file points at the same fake API
// with the same key; only the names differ. So the fake's peak of requests
// in flight is the exporter's peak across all its accounts, which the budget
// must keep at or under its limit.

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

const (
	// manyPageSize and manyConcurrency are the exporter's defaults, passed
	// explicitly so that the floor computed here is the one it runs with.
	manyPageSize    = 100
	manyConcurrency = 4
	// manyScrapeTimeout is sent as X-Prometheus-Scrape-Timeout-Seconds, and
	// --vocode.timeout is longer still: the bench measures how long the
	// walks take, so no deadline may cut them short.
	manyScrapeTimeout = 60 * time.Second
	manyWalkTimeout   = 2 * time.Minute
)

// manyOptions configure the many-accounts part.
type manyOptions struct {
	enabled  bool
	cases    []manyCase
	latency  time.Duration
	budget   int
	runs     int
	baseline string // another exporter binary measured in the same runs
}

// manyCase is one row of the many-accounts table.
type manyCase struct {
	accounts, conns int
	probe           bool // one /probe per account instead of one /metrics scrape
	// spread sends the probes evenly over this time, as Prometheus spreads
	// its targets over the scrape interval, instead of all at once.
	spread time.Duration
}

func (c manyCase) pages() int    { return (c.conns + manyPageSize - 1) / manyPageSize }
func (c manyCase) requests() int { return c.accounts * c.pages() }

func (c manyCase) String() string {
	how := "/metrics"
	if c.probe {
		how = "/probe"
	}
	when := ""
	if c.spread > 0 {
		when = ", spread over " + c.spread.String()
	}
	return fmt.Sprintf("%s, %d accounts x %d connections%s", how, c.accounts, c.conns, when)
}

// floor is the least time the walks can take: the walk of one account (page
// 1, then the rest manyConcurrency at a time), and what the budget lets
// through, each of its slots serving one request per latency. budget 0 is
// an exporter without a budget.
func (c manyCase) floor(latency time.Duration, budget int) time.Duration {
	own := time.Duration(1+(c.pages()-1+manyConcurrency-1)/manyConcurrency) * latency
	// Spread, the last probe is sent at (accounts-1)/accounts of it.
	own += c.spread / time.Duration(c.accounts) * time.Duration(c.accounts-1)
	if budget == 0 {
		return own
	}
	return max(own, time.Duration((c.requests()+budget-1)/budget)*latency)
}

// manyFlagValues holds the flags until they are parsed.
type manyFlagValues struct {
	enabled          *bool
	accounts         *string
	conns            *int
	bigAccounts, big *int
	latency          *time.Duration
	budget, runs     *int
	baseline         *string
	spreadAccounts   *string
	spread           *time.Duration
}

func manyFlags() *manyFlagValues {
	return &manyFlagValues{
		enabled: flag.Bool("many", true, "measure many accounts served by one exporter, through /metrics and /probe"),
		accounts: flag.String("many-accounts", "1000",
			"accounts of the small-account rows (/metrics and /probe), comma separated; with several counts, peak RSS and CPU are fitted against the accounts"),
		conns: flag.Int("many-connections", 5, "connections of each account in the small-account rows"),
		bigAccounts: flag.Int("many-large-accounts", 300,
			"accounts of the large-account row (/metrics); 0 leaves the row out"),
		big:     flag.Int("many-large-connections", 370, "connections of each account in the large-account row"),
		latency: flag.Duration("many-latency", 50*time.Millisecond, "latency of the fake API in the many-accounts rows"),
		budget:  flag.Int("many-budget", 16, "--vocode.max-requests-in-flight of the many-accounts rows"),
		runs:    flag.Int("many-runs", 5, "runs of each many-accounts row, each with a fresh exporter process"),
		spreadAccounts: flag.String("many-spread-accounts", "",
			"accounts of /probe rows whose probes are sent evenly over --many-spread, as Prometheus spreads its targets over the scrape interval; comma separated, empty for none"),
		spread: flag.Duration("many-spread", time.Minute, "the time over which the --many-spread-accounts rows send their probes"),
		baseline: flag.String("baseline", "",
			"another exporter binary (e.g. one built before the request budget) measured next to this one in the many-accounts rows it supports"),
	}
}

func (f *manyFlagValues) options() (manyOptions, error) {
	counts, err := parseInts(*f.accounts)
	if err != nil {
		return manyOptions{}, fmt.Errorf("--many-accounts: %w", err)
	}
	if *f.conns < 1 || *f.big < 1 || *f.budget < 1 || *f.latency <= 0 {
		return manyOptions{}, fmt.Errorf("--many-accounts, --many-connections, --many-large-connections, --many-budget " +
			"and --many-latency must be above zero (the floor is counted in latencies)")
	}
	o := manyOptions{enabled: *f.enabled, latency: *f.latency, budget: *f.budget,
		runs: max(*f.runs, 1), baseline: *f.baseline}
	for _, n := range counts {
		o.cases = append(o.cases, manyCase{accounts: n, conns: *f.conns}, manyCase{accounts: n, conns: *f.conns, probe: true})
	}
	if *f.spreadAccounts != "" {
		spreadCounts, err := parseInts(*f.spreadAccounts)
		if err != nil {
			return manyOptions{}, fmt.Errorf("--many-spread-accounts: %w", err)
		}
		if *f.spread <= 0 {
			return manyOptions{}, fmt.Errorf("--many-spread must be positive, got %v", *f.spread)
		}
		for _, n := range spreadCounts {
			o.cases = append(o.cases, manyCase{accounts: n, conns: *f.conns, probe: true, spread: *f.spread})
		}
	}
	if *f.bigAccounts > 0 {
		o.cases = append(o.cases, manyCase{accounts: *f.bigAccounts, conns: *f.big})
	}
	return o, nil
}

// variant is an exporter binary and what it supports: binaries from before
// the request budget or the probe endpoint refuse their flags.
type variant struct {
	name, path string
	budget     bool
	probe      bool
	// connectionsOnly turns off the collectors the binary has besides the
	// connection list (usage, numbers, agents), which it runs unless told
	// not to: the bench measures the connection list, as its floors count.
	connectionsOnly []string
}

func newVariant(name, path string) (variant, error) {
	out, err := exec.Command(path, "--help").CombinedOutput()
	if err != nil {
		return variant{}, fmt.Errorf("%s --help: %w\n%s", path, err, out)
	}
	v := variant{name: name, path: path,
		// Without the leading dashes: kingpin lists a bool flag as --[no-]name.
		budget: bytes.Contains(out, []byte("vocode.max-requests-in-flight")),
		probe:  bytes.Contains(out, []byte("web.probe-only"))}
	for _, c := range []string{"usage", "numbers", "agents"} {
		if bytes.Contains(out, []byte("collector."+c+" ")) {
			v.connectionsOnly = append(v.connectionsOnly, "--no-collector."+c)
		}
	}
	return v, nil
}

// manyRun is what one run of a row measured.
type manyRun struct {
	wall     time.Duration // the scrape, or from the first probe sent to the last answer
	slowest  time.Duration // the longest a scrape or probe waited for its answer
	maxWalk  time.Duration // the largest vocode_scrape_duration_seconds
	peak     int           // the fake's most requests in flight
	requests int           // requests the fake served
	rss      int64         // the exporter's VmHWM
	restRSS  int64         // the exporter's VmRSS when ready, before the first scrape: its accounts configured, none walked
	cpu      time.Duration // the exporter's user and system CPU time over the scrape or probes
	up       int           // accounts answered 200 with vocode_up 1 (for a probe: its own, and only its own)
}

// manyRow is one row of the table: a case, a binary, its runs.
type manyRow struct {
	c      manyCase
	v      variant
	budget int // 0 when the binary has none
	runs   []manyRun
}

// benchMany measures every row; given is the --exporter flag, which names
// the binary in the table when set.
func benchMany(o manyOptions, given string, b bins) ([]*manyRow, error) {
	if err := checkFiles(o); err != nil {
		return nil, err
	}
	name := "this tree"
	if given != "" {
		name = filepath.Base(given)
	}
	var variants []variant
	for _, nb := range [][2]string{{name, b.exporter}, {"baseline " + filepath.Base(o.baseline), o.baseline}} {
		if nb[1] == "" {
			continue
		}
		v, err := newVariant(nb[0], nb[1])
		if err != nil {
			return nil, err
		}
		variants = append(variants, v)
	}

	var rows []*manyRow
	for _, c := range o.cases {
		data := vocodetest.Dataset(c.conns/2, c.conns-c.conns/2)
		var caseRows []*manyRow
		for _, v := range variants {
			if c.probe && !v.probe {
				continue
			}
			r := &manyRow{c: c, v: v}
			if v.budget {
				r.budget = o.budget
			}
			caseRows = append(caseRows, r)
		}
		// The binaries take turns run by run, so that the load of other
		// jobs on the machine falls on both alike.
		for i := range o.runs {
			for _, r := range caseRows {
				fmt.Fprintf(os.Stderr, "%v, %s, run %d: ", c, r.v.name, i+1)
				run, err := runMany(r, o, data)
				if err != nil {
					return nil, fmt.Errorf("%v, %s: %w", c, r.v.name, err)
				}
				fmt.Fprintf(os.Stderr, "%v (floor %v), max walk %v, peak in flight %d, %d requests, RSS %s, CPU %v, %d/%d up\n",
					run.wall.Round(time.Millisecond), c.floor(o.latency, r.budget), run.maxWalk.Round(time.Millisecond),
					run.peak, run.requests, mib(float64(run.rss)), run.cpu, run.up, c.accounts)
				r.runs = append(r.runs, run)
			}
		}
		rows = append(rows, caseRows...)
	}
	return rows, nil
}

// checkFiles makes sure the file descriptor limit allows every connection at
// once. The worst case is an exporter without a budget: in this process, a
// probe per account into the exporter and manyConcurrency requests per
// account from it into the fake; in the exporter, their other ends. Go
// raises a process's soft limit to the hard one at start, so the hard limit
// is what counts.
func checkFiles(o manyOptions) error {
	need := 256
	for _, c := range o.cases {
		// Spread probes are not all open at once.
		if c.spread == 0 {
			need = max(need, c.accounts*(manyConcurrency+1)+256)
		}
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Max < uint64(need) {
		return fmt.Errorf("the file descriptor limit is %d, the many-accounts rows need %d: raise it (ulimit -n)", lim.Max, need)
	}
	return nil
}

// runMany starts a fake API and a fresh exporter for one run of r: the
// scrape or the probes meet an exporter that has served nothing yet, so
// its peak RSS is that of this one scrape.
func runMany(r *manyRow, o manyOptions, data []vocodetest.Connection) (manyRun, error) {
	var run manyRun
	url, api, stopAPI, err := fakeAPI(data, o.latency)
	if err != nil {
		return run, err
	}
	defer stopAPI()
	dir, err := os.MkdirTemp("", "vocode-bench-many-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(dir)
	names := accountNames(r.c.accounts)
	cfg := filepath.Join(dir, "accounts.yml")
	if err := os.WriteFile(cfg, accountsConfig(names, url), 0o600); err != nil {
		return run, err
	}

	args := []string{"--config.file=" + cfg,
		"--vocode.page-size=" + strconv.Itoa(manyPageSize),
		"--vocode.concurrency=" + strconv.Itoa(manyConcurrency),
		"--vocode.timeout=" + manyWalkTimeout.String(),
		"--log.level=warn"}
	if r.budget > 0 {
		args = append(args, "--vocode.max-requests-in-flight="+strconv.Itoa(r.budget))
	}
	if r.c.probe {
		args = append(args, "--web.probe-only")
	}
	args = append(args, r.v.connectionsOnly...)
	// Room for one idle connection per probe: otherwise the probes' answers
	// would close most connections, and the bench would measure itself.
	exp, err := launchExporter(r.v.path, args, &http.Transport{DisableCompression: true,
		MaxIdleConns: len(names) + 1, MaxIdleConnsPerHost: len(names) + 1})
	if err != nil {
		return run, err
	}
	defer exp.stop()
	api.ResetStats()
	cpuBefore, err := cpuTime(exp.cmd.Process.Pid)
	if err != nil {
		return run, err
	}
	restRSS, err := statusBytes(exp.cmd.Process.Pid, "VmRSS")
	if err != nil {
		return run, err
	}

	if r.c.probe {
		run, err = probeAll(exp, names, r.c.spread)
	} else {
		run, err = scrapeAll(exp, names)
	}
	if err != nil {
		return run, err
	}
	st := api.Stats()
	run.peak, run.requests = st.MaxInFlight, st.Requests
	cpuAfter, err := cpuTime(exp.cmd.Process.Pid)
	if err != nil {
		return run, err
	}
	run.cpu, run.restRSS = cpuAfter-cpuBefore, restRSS
	run.rss, err = peakRSS(exp.cmd.Process.Pid)
	return run, err
}

func accountNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%04d", i)
	}
	return names
}

// accountsConfig is the exporter's config file: every account on the same
// fake API, with the same key.
func accountsConfig(names []string, url string) []byte {
	var b bytes.Buffer
	b.WriteString("accounts:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    api_key: %s\n", n, url, apiKey)
	}
	return b.Bytes()
}

// scrapeAll scrapes /metrics once, as Prometheus does.
func scrapeAll(e *exporter, names []string) (manyRun, error) {
	var run manyRun
	start := time.Now()
	status, raw, err := fetchExposition(e.http, e.url+"/metrics", manyScrapeTimeout)
	run.wall = time.Since(start)
	run.slowest = run.wall
	if err != nil {
		return run, err
	}
	if status != http.StatusOK {
		return run, fmt.Errorf("scrape answered %d: %.200s", status, raw)
	}
	x := parseAccounts(raw)
	run.maxWalk = x.maxWalk
	for _, n := range names {
		if x.up[n] == 1 {
			run.up++
		}
	}
	return run, nil
}

// probeAll sends one probe per account, all at once or evenly over spread,
// and waits for the last answer.
func probeAll(e *exporter, names []string, spread time.Duration) (manyRun, error) {
	var run manyRun
	type answer struct {
		ok      bool
		maxWalk time.Duration
		took    time.Duration
		err     error
	}
	answers := make([]answer, len(names))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			<-start
			time.Sleep(spread / time.Duration(len(names)) * time.Duration(i))
			sent := time.Now()
			status, raw, err := fetchExposition(e.http, e.url+"/probe?account="+n, manyScrapeTimeout)
			answers[i].took = time.Since(sent)
			if err != nil {
				answers[i].err = err
				return
			}
			x := parseAccounts(raw)
			// Its own account up, and no other account's series.
			answers[i] = answer{ok: status == http.StatusOK && x.up[n] == 1 && len(x.accounts) == 1, maxWalk: x.maxWalk, took: answers[i].took}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	run.wall = time.Since(t0)
	for i, a := range answers {
		if a.err != nil {
			return run, fmt.Errorf("probe of %s: %w", names[i], a.err)
		}
		if a.ok {
			run.up++
		}
		run.maxWalk = max(run.maxWalk, a.maxWalk)
		run.slowest = max(run.slowest, a.took)
	}
	return run, nil
}

// accountsExposition is what the bench reads of an exposition of accounts.
type accountsExposition struct {
	up       map[string]float64  // vocode_up by account
	accounts map[string]struct{} // every account a vocode_ series names
	maxWalk  time.Duration       // the largest vocode_scrape_duration_seconds
}

func parseAccounts(raw []byte) accountsExposition {
	x := accountsExposition{up: map[string]float64{}, accounts: map[string]struct{}{}}
	for line := range bytes.Lines(raw) {
		if !bytes.HasPrefix(line, []byte("vocode_")) || bytes.HasPrefix(line, []byte("vocode_exporter_")) {
			continue
		}
		account := accountLabel(line)
		if account == "" {
			continue
		}
		x.accounts[account] = struct{}{}
		switch name, value := sample(line); name {
		case "vocode_up":
			x.up[account] = value
		case "vocode_scrape_duration_seconds":
			x.maxWalk = max(x.maxWalk, time.Duration(value*float64(time.Second)))
		}
	}
	return x
}

// accountLabel returns the value of the line's account label. Account names
// are letters, digits, '_' and '-', so the value holds no escapes.
func accountLabel(line []byte) string {
	_, rest, ok := bytes.Cut(line, []byte(`account="`))
	if !ok {
		return ""
	}
	value, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok {
		return ""
	}
	return string(value)
}

func writeMany(w io.Writer, o manyOptions, rows []*manyRow) {
	runs := "One run each."
	if o.runs > 1 {
		runs = fmt.Sprintf("Median of %d runs, min-max after it.", o.runs)
	}
	fmt.Fprintf(w, "\nMany accounts: one fake API serves every account (one URL and key, distinct names), answering each request after %v; "+
		"page size %d, --vocode.concurrency %d, --vocode.max-requests-in-flight %d where the binary has it. "+
		"Each run starts a fresh exporter and scrapes it once, no warm-up (/probe: one probe per account, all sent at once). "+
		"Floor: the larger of one account's walk and ceil(requests / budget) x latency. %s\n\n",
		o.latency, manyPageSize, manyConcurrency, o.budget, runs)
	fmt.Fprintln(w, "| scrape | exporter | budget | requests | wall | wall/floor | floor | slowest answer | max walk | fake's peak in flight | peak RSS | exporter CPU | answered with vocode_up 1 |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		writeManyRow(w, o, r)
	}
	writeFits(w, rows)
	for _, r := range rows {
		if peak := slices.MaxFunc(r.runs, func(a, b manyRun) int { return a.peak - b.peak }).peak; r.budget > 0 && peak > r.budget {
			fmt.Fprintf(w, "\n**The budget did not hold**: %v, %s: %d requests in flight, budget %d.\n", r.c, r.v.name, peak, r.budget)
		}
	}
}

func writeManyRow(w io.Writer, o manyOptions, r *manyRow) {
	floor := r.c.floor(o.latency, r.budget)
	budget := "none"
	if r.budget > 0 {
		budget = strconv.Itoa(r.budget)
	}
	walls := collect(r.runs, func(m manyRun) float64 { return float64(m.wall) })
	ratios := collect(r.runs, func(m manyRun) float64 { return float64(m.wall) / float64(floor) })
	maxWalks := collect(r.runs, func(m manyRun) float64 { return float64(m.maxWalk) })
	slowest := collect(r.runs, func(m manyRun) float64 { return float64(m.slowest) })
	rss := collect(r.runs, func(m manyRun) float64 { return float64(m.rss) })
	peaks := collect(r.runs, func(m manyRun) float64 { return float64(m.peak) })
	reqs := collect(r.runs, func(m manyRun) float64 { return float64(m.requests) })
	cpu := collect(r.runs, func(m manyRun) float64 { return float64(m.cpu) })
	ups := collect(r.runs, func(m manyRun) float64 { return float64(m.up) })
	msf := func(v float64) string { return ms(time.Duration(v)) }
	ratiof := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "x" }
	count := func(v float64) string { return strconv.Itoa(int(v)) }
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s of %d |\n",
		r.c, r.v.name, budget, spread(reqs, count), spread(walls, msf), spread(ratios, ratiof), ms(floor),
		spreadMax(slowest, msf), spread(maxWalks, msf), spreadMax(peaks, count), spread(rss, mib), spread(cpu, msf), spreadMin(ups, count), r.c.accounts)
}

func collect(runs []manyRun, f func(manyRun) float64) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	slices.Sort(out)
	return out
}

// spread is the median, and the range when the runs differ: "3300 ms
// (3200-3500 ms)". vs is sorted.
func spread(vs []float64, f func(float64) string) string {
	m := f((vs[(len(vs)-1)/2] + vs[len(vs)/2]) / 2)
	if lo, hi := f(vs[0]), f(vs[len(vs)-1]); lo != hi {
		return m + " (" + strings.TrimSuffix(lo, unit(lo)) + "-" + hi + ")"
	}
	return m
}

// spreadMax is the largest value, for what must stay under a limit in every
// run. vs is sorted.
func spreadMax(vs []float64, f func(float64) string) string {
	if lo, hi := f(vs[0]), f(vs[len(vs)-1]); lo != hi {
		return hi + " (" + lo + "-" + hi + ")"
	}
	return f(vs[len(vs)-1])
}

// spreadMin is the smallest value, for what must hold in every run. vs is
// sorted.
func spreadMin(vs []float64, f func(float64) string) string {
	if lo, hi := f(vs[0]), f(vs[len(vs)-1]); lo != hi {
		return lo + " (" + lo + "-" + hi + ")"
	}
	return f(vs[0])
}

// unit is the unit suffix of a formatted figure (" ms", " MiB", "x"), left
// off the low end of a range.
func unit(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[i:]
	}
	return strings.TrimLeft(s, "0123456789.")
}
