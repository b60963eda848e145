package main

// Per-account costs, fitted over the many-accounts rows of several account
// counts: a line through every run's figure against its accounts, so that
// one noisy run moves the slope less than a difference of two rows would,
// and the fixed cost of a process (its runtime, its HTTP server) falls into
// the intercept instead of into the cost per account.

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// line is y = intercept + slope x.
type line struct{ intercept, slope float64 }

// fitLine is the least-squares line through the points (xs[i], ys[i]); ok
// is false unless there are two distinct xs. (A library such as gonum's
// stat.LinearRegression would do the same two sums; it is not worth a
// module of that size in the bench's go.mod.)
func fitLine(xs, ys []float64) (line, bool) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if len(xs) < 2 || d == 0 {
		return line{}, false
	}
	slope := (n*sxy - sx*sy) / d
	return line{intercept: (sy - slope*sx) / n, slope: slope}, true
}

// writeFits writes, for each way of scraping and each binary measured at
// two or more account counts, peak RSS and exporter CPU per account, and
// the accounts answered per second at the largest count.
func writeFits(w io.Writer, rows []*manyRow) {
	type key struct {
		probe   bool
		spread  time.Duration
		variant string
		conns   int
	}
	groups := map[key][]*manyRow{}
	var order []key
	for _, r := range rows {
		k := key{r.c.probe, r.c.spread, r.v.name, r.c.conns}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	header := false
	for _, k := range order {
		var accounts, rss, rest, cpu []float64
		var largest *manyRow
		for _, r := range groups[k] {
			for _, run := range r.runs {
				// A run that lost accounts is an overload, not a cost
				// per account.
				if run.up != r.c.accounts {
					continue
				}
				accounts = append(accounts, float64(r.c.accounts))
				rss = append(rss, float64(run.rss))
				rest = append(rest, float64(run.restRSS))
				cpu = append(cpu, float64(run.cpu))
			}
			if largest == nil || r.c.accounts > largest.c.accounts {
				largest = r
			}
		}
		memory, ok := fitLine(accounts, rss)
		if !ok {
			continue
		}
		work, _ := fitLine(accounts, cpu)
		resting, _ := fitLine(accounts, rest)
		if !header {
			fmt.Fprintln(w, "\nPer account, a least-squares line through every run of the rows above against their accounts (runs that did not answer every account with vocode_up 1 left out):")
			fmt.Fprintln(w, "\n| scrape | exporter | connections per account | runs | RSS per configured account, before any scrape | RSS at 0 accounts, before any scrape | peak RSS per account | peak RSS at 0 accounts | exporter CPU per account | accounts answered per second at the largest count |")
			fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
			header = true
		}
		how := "/metrics"
		switch {
		case k.spread > 0:
			how = "/probe, spread over " + k.spread.String()
		case k.probe:
			how = "/probe, all at once"
		}
		walls := collect(largest.runs, func(m manyRun) float64 { return float64(m.wall) })
		wall := time.Duration((walls[(len(walls)-1)/2] + walls[len(walls)/2]) / 2)
		rate := fmt.Sprintf("%s (%d accounts in %s)", strconv.FormatFloat(float64(largest.c.accounts)/wall.Seconds(), 'f', 0, 64), largest.c.accounts, ms(wall))
		if k.spread > 0 {
			rate = "- (the spread sets it)"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s KiB | %s | %s KiB | %s | %s ms | %s |\n",
			how, k.variant, k.conns, len(accounts), strconv.FormatFloat(resting.slope/(1<<10), 'f', 1, 64), mib(resting.intercept),
			strconv.FormatFloat(memory.slope/(1<<10), 'f', 1, 64),
			mib(memory.intercept), strconv.FormatFloat(work.slope/float64(time.Millisecond), 'f', 3, 64),
			rate)
	}
}
