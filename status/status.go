// Package status serves the exporter's status page: one row per configured
// account with its last walk, the build, and the last configuration load.
// It is rendered on the server with html/template, with no script, so it
// works behind any proxy and in any browser.
package status

import (
	"embed"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vocode-exporter/vocode_exporter/account"
)

//go:embed status.html
var files embed.FS

var page = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"since": func(now, t time.Time) string { return age(now.Sub(t)) },
	"utc":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"secs":  func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + " s" },
}).ParseFS(files, "status.html"))

// Options say what the page shows besides the accounts.
type Options struct {
	Version     string // version.Info()
	MetricsPath string
	// ProbeOnly says that /metrics serves no account: the page then says
	// so, since its probe links are the only way to the accounts' series.
	ProbeOnly bool
	// Calls says the calls collector is on: each row then shows the calls
	// of the window and the errors among them (counts only).
	Calls bool
	// Agents says the agents collector is on: each row then shows how
	// many agents the account has (a count only).
	Agents bool
	Logger *slog.Logger
}

// row is one account on the page.
type row struct {
	Name        string
	Probe       string // the link to its probe
	Walked      bool   // false until a walk ends
	OK          bool
	Outcome     string // "ok", or the reason, with the HTTP status if any
	Ended       time.Time
	Duration    time.Duration
	Pages       int
	Connections []typeCount
	Calls       string // "12 in the last 15m0s, 2 errors, 1 of 8 ended short (12%)", "" when none counted
	Agents      int    // the agents of the last walk, -1 when not walked or failed
}

type typeCount struct {
	Type  string
	Count int
}

type data struct {
	Options
	Now    time.Time
	Reload account.ReloadStatus
	Rows   []row
}

// Handler returns the handler of the status page, at "/". Other paths get
// a 404, as the landing pages of Prometheus exporters answer them.
func Handler(accounts *account.Set, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		d := data{Options: o, Now: time.Now(), Reload: accounts.LastReload()}
		for _, a := range accounts.All() {
			d.Rows = append(d.Rows, newRow(a))
		}
		var b strings.Builder
		if err := page.Execute(&b, d); err != nil {
			o.Logger.Error("cannot render the status page", "err", err)
			http.Error(w, "cannot render the status page", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(b.String()))
	})
}

func newRow(a *account.Account) row {
	r := row{Name: a.Name(), Probe: "/probe?account=" + url.QueryEscape(a.Name()), Agents: -1}
	s, ok := a.LastWalk()
	if !ok {
		return r
	}
	r.Walked, r.OK, r.Ended, r.Duration, r.Pages, r.Agents = true, s.Reason == "", s.Ended, s.Duration, s.Pages, s.Agents
	switch {
	case r.OK:
		r.Outcome = "ok"
	case s.Status != 0:
		r.Outcome = string(s.Reason) + " (HTTP " + strconv.Itoa(s.Status) + ")"
	default:
		r.Outcome = string(s.Reason)
	}
	// The other collectors fail apart from the connection list: say so
	// next to its outcome, so a green row never hides a failing part. A
	// failure for the same reason as the list's (a revoked key fails all
	// three) says nothing more.
	var failed []string
	for _, name := range slices.Sorted(maps.Keys(s.Failed)) {
		if s.Failed[name] != s.Reason {
			failed = append(failed, name+": "+string(s.Failed[name]))
		}
	}
	if len(failed) > 0 {
		r.Outcome += " (" + strings.Join(failed, ", ") + " failed)"
	}
	if c := s.Calls; c != nil {
		r.Calls = strconv.Itoa(c.Total) + " in the last " + c.Window.String() + ", " + strconv.Itoa(c.Errors) + " errors"
		if c.Ended > 0 {
			r.Calls += ", " + strconv.Itoa(c.Short) + " of " + strconv.Itoa(c.Ended) + " ended short (" +
				strconv.Itoa(100*c.Short/c.Ended) + "%)"
		}
		if c.Truncated {
			r.Calls += " (truncated: more pages than --collector.calls.max-pages)"
		}
	}
	for _, typ := range slices.Sorted(maps.Keys(s.Connections)) {
		r.Connections = append(r.Connections, typeCount{typ, s.Connections[typ]})
	}
	return r
}

// age says how long ago something was, to the second.
func age(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		return "just now"
	}
	return d.String() + " ago"
}
