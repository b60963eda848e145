// Command vocode-bench measures what a scrape of vocode_exporter costs, and
// prints a Markdown table of it (`make bench`, `make bench-quick`).
//
// It builds the exporter and internal/bench/minwalker, serves the fake Vocode
// API (vocodetest) in this process, and for each cell of a grid of
// connections x per-request latency x concurrency starts a fresh exporter
// process and a fresh minimal walker, then scrapes the exporter and walks
// with the minimal walker alternately, several times. For each cell it
// reports:
//
//   - walk: the median vocode_scrape_duration_seconds, next to the floor
//     (1 + ceil((pages-1)/concurrency)) x latency and their ratio;
//   - CPU per scrape of the exporter process (utime+stime from /proc/PID/stat)
//     and CPU per walk of the minimal walker, measured the same way in the
//     same run, and their ratio: the exporter's own work (aggregation,
//     exposition, serving) on top of fetching and decoding;
//   - bytes allocated per scrape (delta of go_memstats_alloc_bytes_total),
//     also per connection, to show that allocations follow connections;
//   - peak RSS (VmHWM) of both processes.
//
// A second part (many.go) measures one exporter serving many accounts
// at once, through /metrics and through /probe, against the floor its
// request budget (--vocode.max-requests-in-flight) sets.
//
// Linux only (/proc). CPU times come in clock ticks of 10 ms, so cells with
// little work are measured over more scrapes.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

const apiKey = "vocode-bench-key"

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// acceptHeader asks for the formats Prometheus asks for, in its order.
const acceptHeader = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4," +
	"text/plain;version=0.0.4;q=0.3,*/*;q=0.1"

type options struct {
	conns       []int
	latencies   []time.Duration
	concurrency []int
	scrapes     int
	exporter    string
	out         string
	sweep       bool
	grid        bool // the single-account grid above
	many        manyOptions
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vocode-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "a small grid: 1,000 and 10,000 connections, 20ms, concurrency 4; fewer scrapes")
	conns := flag.String("connections", "1000,10000,100000", "connection counts, comma separated")
	latencies := flag.String("latency", "0s,20ms", "per-request latencies of the fake API, comma separated")
	concurrency := flag.String("concurrency", "1,4,8", "--vocode.concurrency values, comma separated")
	scrapes := flag.Int("scrapes", 5, "measured scrapes per cell at 10,000 connections (more below, fewer above), after one warm-up")
	exporter := flag.String("exporter", "", "exporter binary to measure (default: build it from this tree)")
	out := flag.String("out", "", "also write the Markdown to this file")
	sweep := flag.Bool("pages-sweep", true, "also measure 10,000 connections at page sizes 25, 50 and 100")
	grid := flag.Bool("grid", true, "measure the single-account grid (--connections x --latency x --concurrency)")
	many := manyFlags()
	flag.Parse()

	o := options{scrapes: *scrapes, exporter: *exporter, out: *out, sweep: *sweep, grid: *grid}
	var err error
	if o.many, err = many.options(); err != nil {
		return err
	}
	if *quick {
		*conns, *latencies, *concurrency = "1000,10000", "20ms", "4"
		o.scrapes = 3
		o.sweep = false
		o.many.runs = 1
	}
	if o.conns, err = parseInts(*conns); err != nil {
		return err
	}
	if o.concurrency, err = parseInts(*concurrency); err != nil {
		return err
	}
	for _, s := range strings.Split(*latencies, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		o.latencies = append(o.latencies, d)
	}
	return bench(o)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// bins holds the binaries under test.
type bins struct{ exporter, minwalker string }

func build(o options) (bins, func(), error) {
	dir, err := os.MkdirTemp("", "vocode-bench-")
	if err != nil {
		return bins{}, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	benchDir, root, err := moduleDirs()
	if err != nil {
		return bins{}, cleanup, err
	}
	b := bins{exporter: o.exporter, minwalker: filepath.Join(dir, "minwalker")}
	// Each binary is built in its own module: the exporter with the
	// exporter's go.mod, as a release is, not with this module's.
	targets := []struct{ out, pkg, dir string }{{b.minwalker, "./minwalker", benchDir}}
	if b.exporter == "" {
		b.exporter = filepath.Join(dir, "vocode_exporter")
		targets = append(targets, struct{ out, pkg, dir string }{b.exporter, ".", root})
	}
	for _, t := range targets {
		cmd := exec.Command("go", "build", "-o", t.out, t.pkg)
		cmd.Dir = t.dir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return bins{}, cleanup, fmt.Errorf("go build %s in %s: %w", t.pkg, t.dir, err)
		}
	}
	return b, cleanup, nil
}

const (
	benchModule    = "github.com/vocode-exporter/vocode_exporter/internal/bench"
	exporterModule = "github.com/vocode-exporter/vocode_exporter"
)

// moduleDirs returns the directories of this module and of the exporter's
// (the target of this module's replace directive).
func moduleDirs() (benchDir, root string, err error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}", benchModule, exporterModule).Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m (run vocode-bench inside internal/bench, as make bench does): %w", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, " ")
		switch path {
		case benchModule:
			benchDir = dir
		case exporterModule:
			root = dir
		}
	}
	if benchDir == "" || root == "" {
		return "", "", fmt.Errorf("go list -m found no directory for %s or %s in %q", benchModule, exporterModule, out)
	}
	return benchDir, root, nil
}

// cell is one measurement: the inputs, then what was measured.
type cell struct {
	conns, pageSize, concurrency int
	latency                      time.Duration
	scrapes                      int

	pages     int
	walk      time.Duration // median vocode_scrape_duration_seconds
	minWalk   time.Duration // median walk of the minimal walker
	floor     time.Duration
	cpu       time.Duration // exporter CPU per scrape
	minCPU    time.Duration // minimal walker CPU per walk
	alloc     float64       // exporter bytes allocated per scrape
	minAlloc  float64       // minimal walker bytes allocated per walk
	rss       int64         // exporter VmHWM, bytes
	minRSS    int64
	series    int // samples in one exposition
	bodyBytes int // exposition size, uncompressed
}

func bench(o options) error {
	b, cleanup, err := build(o)
	defer cleanup()
	if err != nil {
		return err
	}
	start := time.Now()
	var md bytes.Buffer
	if o.grid {
		cells, sweep, err := benchGrid(o, b)
		if err != nil {
			return err
		}
		writeReport(&md, cells, sweep)
	}
	if o.many.enabled {
		rows, err := benchMany(o.many, o.exporter, b)
		if err != nil {
			return err
		}
		writeMany(&md, o.many, rows)
	}
	fmt.Fprintf(&md, "\nMachine: %s. Run took %v.\n", machine(), time.Since(start).Round(time.Second))
	if _, err := os.Stdout.Write(md.Bytes()); err != nil {
		return err
	}
	if o.out != "" {
		return os.WriteFile(o.out, md.Bytes(), 0o644)
	}
	return nil
}

// benchGrid measures the single-account grid, and the page-size sweep.
func benchGrid(o options, b bins) (cells, sweep []*cell, err error) {
	for _, n := range o.conns {
		scrapes := o.scrapes
		switch {
		case n <= 2_000:
			scrapes = o.scrapes * 4
		case n >= 50_000:
			scrapes = max(2, o.scrapes*3/5)
		}
		for _, lat := range o.latencies {
			for _, c := range o.concurrency {
				cells = append(cells, &cell{conns: n, pageSize: 100, concurrency: c, latency: lat, scrapes: scrapes})
			}
		}
	}
	if o.sweep {
		for _, size := range []int{25, 50, 100} {
			sweep = append(sweep, &cell{conns: 10_000, pageSize: size, concurrency: 4, scrapes: o.scrapes})
		}
	}

	datasets := map[int][]vocodetest.Connection{}
	for _, c := range append(slices.Clone(cells), sweep...) {
		if datasets[c.conns] == nil {
			datasets[c.conns] = vocodetest.Dataset(c.conns/2, c.conns-c.conns/2)
		}
		fmt.Fprintf(os.Stderr, "%d connections, %d per page, latency %v, concurrency %d: ",
			c.conns, c.pageSize, c.latency, c.concurrency)
		if err := measure(b, datasets[c.conns], c); err != nil {
			return nil, nil, fmt.Errorf("%d connections, latency %v, concurrency %d: %w", c.conns, c.latency, c.concurrency, err)
		}
		fmt.Fprintf(os.Stderr, "walk %v (minimal %v), CPU %v (minimal %v)\n",
			c.walk.Round(time.Millisecond), c.minWalk.Round(time.Millisecond), c.cpu, c.minCPU)
	}
	return cells, sweep, nil
}

// fakeAPI serves conns on a loopback port until stop is called. Its Stats
// count every request it serves, whichever account sent it.
func fakeAPI(conns []vocodetest.Connection, latency time.Duration) (string, *vocodetest.API, func(), error) {
	api := vocodetest.NewAPI(conns, vocodetest.WithAPIKey(apiKey), vocodetest.WithLatency(latency))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), api, func() { api.Close(); _ = srv.Close() }, nil
}

func measure(b bins, conns []vocodetest.Connection, c *cell) error {
	url, _, stopAPI, err := fakeAPI(conns, c.latency)
	if err != nil {
		return err
	}
	defer stopAPI()
	c.pages = (c.conns + c.pageSize - 1) / c.pageSize
	c.floor = time.Duration(1+(c.pages-1+c.concurrency-1)/c.concurrency) * c.latency

	exp, err := startExporter(b.exporter, url, c)
	if err != nil {
		return err
	}
	defer exp.stop()
	mw, err := startMinwalker(b.minwalker, url, c)
	if err != nil {
		return err
	}
	defer mw.stop()

	// Warm-up: connections to the API opened, buffers grown, lazily
	// initialised state set up. Its allocation count is the baseline.
	first, err := exp.scrape()
	if err != nil {
		return err
	}
	if _, err := mw.walk(); err != nil {
		return err
	}
	c.series, c.bodyBytes = first.series, first.size

	var walks, minWalks []time.Duration
	var cpu, minCPU time.Duration
	var minAlloc float64
	last := first
	for range c.scrapes {
		before, err := cpuTime(exp.cmd.Process.Pid)
		if err != nil {
			return err
		}
		s, err := exp.scrape()
		if err != nil {
			return err
		}
		after, err := cpuTime(exp.cmd.Process.Pid)
		if err != nil {
			return err
		}
		cpu += after - before
		walks = append(walks, s.duration)
		last = s

		before, err = cpuTime(mw.cmd.Process.Pid)
		if err != nil {
			return err
		}
		w, err := mw.walk()
		if err != nil {
			return err
		}
		after, err = cpuTime(mw.cmd.Process.Pid)
		if err != nil {
			return err
		}
		minCPU += after - before
		minAlloc += w.alloc
		minWalks = append(minWalks, w.took)
		if w.conns != c.conns || w.pages != c.pages {
			return fmt.Errorf("minimal walker found %d connections in %d pages, want %d in %d", w.conns, w.pages, c.conns, c.pages)
		}
	}
	if last.pages != c.pages {
		return fmt.Errorf("exporter walked %d pages, want %d", last.pages, c.pages)
	}
	n := time.Duration(c.scrapes)
	c.cpu, c.minCPU = cpu/n, minCPU/n
	c.alloc = (last.allocTotal - first.allocTotal) / float64(c.scrapes)
	c.minAlloc = minAlloc / float64(c.scrapes)
	c.walk, c.minWalk = median(walks), median(minWalks)
	if c.rss, err = peakRSS(exp.cmd.Process.Pid); err != nil {
		return err
	}
	c.minRSS, err = peakRSS(mw.cmd.Process.Pid)
	return err
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// exporter is a running vocode_exporter process.
type exporter struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	http *http.Client
}

func startExporter(bin, apiURL string, c *cell) (*exporter, error) {
	args := []string{
		"--vocode.url=" + apiURL,
		"--vocode.page-size=" + strconv.Itoa(c.pageSize),
		"--vocode.concurrency=" + strconv.Itoa(c.concurrency),
		"--vocode.timeout=10m",
		"--log.level=warn",
	}
	v, err := newVariant(bin, bin)
	if err != nil {
		return nil, err
	}
	args = append(args, v.connectionsOnly...)
	return launchExporter(bin, args, &http.Transport{DisableCompression: true})
}

// launchExporter starts bin with args on a free loopback port, and waits
// until it is ready. The key of the accounts configured by flags is apiKey;
// t is the transport of the bench's own requests to it.
func launchExporter(bin string, args []string, t *http.Transport) (*exporter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	e := &exporter{url: "http://" + addr, logs: &bytes.Buffer{}, http: &http.Client{Transport: t}}
	e.cmd = exec.Command(bin, append([]string{"--web.listen-address=" + addr}, args...)...)
	e.cmd.Env = []string{"VOCODE_API_KEY=" + apiKey, "PATH=" + os.Getenv("PATH")}
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := e.http.Get(e.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("exporter not ready: %w\n%s", cmp.Or(err, errors.New("/-/ready did not answer 200")), e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *exporter) stop() {
	_ = e.cmd.Process.Kill()
	_ = e.cmd.Wait()
	e.http.CloseIdleConnections()
}

// scraped is what one scrape told.
type scraped struct {
	duration   time.Duration
	pages      int
	allocTotal float64
	series     int
	size       int
}

// scrape fetches /metrics as Prometheus does: its Accept header, gzip.
func (e *exporter) scrape() (scraped, error) {
	var s scraped
	status, raw, err := fetchExposition(e.http, e.url+"/metrics", 0)
	if err != nil {
		return s, err
	}
	if status != http.StatusOK {
		return s, fmt.Errorf("scrape answered %d: %.200s", status, raw)
	}
	s.size = len(raw)
	up := -1.0
	for line := range bytes.Lines(raw) {
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		s.series++
		name, value := sample(line)
		switch name {
		case "vocode_up":
			up = value
		case "vocode_scrape_duration_seconds":
			s.duration = time.Duration(value * float64(time.Second))
		case "vocode_scrape_pages":
			s.pages = int(value)
		case "go_memstats_alloc_bytes_total":
			s.allocTotal = value
		}
	}
	if up != 1 {
		return s, fmt.Errorf("vocode_up is %v, not 1; exporter log:\n%s", up, e.logs)
	}
	return s, nil
}

// fetchExposition GETs url as Prometheus scrapes: its Accept header, gzip,
// and, when scrapeTimeout is not zero, X-Prometheus-Scrape-Timeout-Seconds.
// It returns the status and the uncompressed body.
func fetchExposition(client *http.Client, url string, scrapeTimeout time.Duration) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("Accept-Encoding", "gzip")
	if scrapeTimeout > 0 {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(scrapeTimeout.Seconds(), 'f', -1, 64))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return 0, nil, err
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	return resp.StatusCode, raw, err
}

// sample splits an exposition line into its metric name and value; it is
// enough for the unlabelled or simply labelled series read here.
func sample(line []byte) (string, float64) {
	line = bytes.TrimSpace(line)
	end := bytes.IndexAny(line, "{ ")
	if end < 0 {
		return "", 0
	}
	name := string(line[:end])
	rest := line[end:]
	if rest[0] == '{' {
		brace := bytes.LastIndexByte(rest, '}')
		if brace < 0 {
			return "", 0
		}
		rest = rest[brace+1:]
	}
	fields := strings.Fields(string(rest))
	if len(fields) == 0 {
		return "", 0
	}
	v, _ := strconv.ParseFloat(fields[0], 64)
	return name, v
}

// minwalker is a running minimal walker.
type minwalker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

type walked struct {
	conns, pages int
	took         time.Duration
	alloc        float64
}

func startMinwalker(bin, apiURL string, c *cell) (*minwalker, error) {
	m := &minwalker{cmd: exec.Command(bin, "--url="+apiURL,
		"--page-size="+strconv.Itoa(c.pageSize), "--concurrency="+strconv.Itoa(c.concurrency))}
	m.cmd.Env = []string{"VOCODE_API_KEY=" + apiKey}
	m.cmd.Stderr = os.Stderr
	var err error
	if m.in, err = m.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := m.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	m.out = bufio.NewScanner(stdout)
	return m, m.cmd.Start()
}

func (m *minwalker) walk() (walked, error) {
	var w walked
	if _, err := io.WriteString(m.in, "walk\n"); err != nil {
		return w, err
	}
	if !m.out.Scan() {
		return w, fmt.Errorf("minimal walker gave no answer: %w", cmp.Or(m.out.Err(), io.EOF))
	}
	f := strings.Fields(m.out.Text())
	if len(f) != 5 || f[0] != "ok" {
		return w, fmt.Errorf("minimal walker: %s", m.out.Text())
	}
	w.conns, _ = strconv.Atoi(f[1])
	w.pages, _ = strconv.Atoi(f[2])
	ns, _ := strconv.ParseInt(f[3], 10, 64)
	w.took = time.Duration(ns)
	w.alloc, _ = strconv.ParseFloat(f[4], 64)
	return w, nil
}

func (m *minwalker) stop() {
	_ = m.in.Close()
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
}

// cpuTime is the user plus system CPU time the process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of the whole line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// peakRSS is VmHWM, the most resident memory the process has had.
func peakRSS(pid int) (int64, error) { return statusBytes(pid, "VmHWM") }

// statusBytes reads a memory figure (VmHWM, VmRSS) of /proc/PID/status.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/PID/status", field)
}

func writeReport(w io.Writer, cells, sweep []*cell) {
	fmt.Fprintln(w, "| connections | pages | latency | concurrency | scrapes | walk | floor | walk/floor | minimal walker walk/floor | exporter CPU/scrape | minimal walker CPU/walk | CPU ratio | alloc/scrape | alloc/connection | minimal walker alloc/walk | peak RSS | minimal walker peak RSS | series | exposition |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		writeRow(w, c)
	}
	if len(sweep) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Allocations against pages (10,000 connections, no latency, concurrency 4):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| page size | pages | walk | exporter CPU/scrape | minimal walker CPU/walk | CPU ratio | alloc/scrape | alloc/connection | alloc/page | peak RSS |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, c := range sweep {
			fmt.Fprintf(w, "| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				c.pageSize, c.pages, ms(c.walk), ms(c.cpu), ms(c.minCPU), ratio(c.cpu, c.minCPU),
				mib(c.alloc), kb(c.alloc/float64(c.conns)), kb(c.alloc/float64(c.pages)), mib(float64(c.rss)))
		}
	}
}

func writeRow(w io.Writer, c *cell) {
	floor, walkRatio, minRatio := "-", "-", "-"
	if c.floor > 0 {
		floor, walkRatio, minRatio = ms(c.floor), ratio(c.walk, c.floor), ratio(c.minWalk, c.floor)
	}
	fmt.Fprintf(w, "| %d | %d | %v | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
		c.conns, c.pages, c.latency, c.concurrency, c.scrapes, ms(c.walk), floor, walkRatio, minRatio,
		ms(c.cpu), ms(c.minCPU), ratio(c.cpu, c.minCPU),
		mib(c.alloc), kb(c.alloc/float64(c.conns)), mib(c.minAlloc),
		mib(float64(c.rss)), mib(float64(c.minRSS)), c.series, mib(float64(c.bodyBytes)))
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 0, 64) + " ms"
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64) + "x"
}

func mib(b float64) string { return strconv.FormatFloat(b/(1<<20), 'f', 1, 64) + " MiB" }

func kb(b float64) string { return strconv.FormatFloat(b/1024, 'f', 2, 64) + " KiB" }

// machine describes where the bench ran: CPUs, their model, the kernel, Go.
func machine() string {
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs (%s), %s, %s, %s/%s",
		runtime.NumCPU(), cpuModel(), kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
