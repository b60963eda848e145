package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/vocode-exporter/vocode_exporter/collector"
	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// configSource says where the configuration comes from: a file, or flags.
type configSource struct {
	file, url, keyFile string
}

func (s configSource) load() (*config.Config, error) {
	if s.file != "" {
		return config.Load(s.file, s.url)
	}
	return config.FromFlags(s.url, s.keyFile, os.Getenv("VOCODE_API_KEY"))
}

type clientOptions struct {
	pageSize, concurrency int
	userAgent             string
}

// accounts holds the targets of the current configuration and swaps them on
// reload. A configuration that fails to load leaves the current one serving.
type accounts struct {
	base    context.Context
	src     configSource
	opts    clientOptions
	metrics *collector.Metrics
	logger  *slog.Logger

	reloadMu sync.Mutex // one reload at a time
	mu       sync.RWMutex
	current  []*collector.Target
}

func newAccounts(base context.Context, src configSource, opts clientOptions, m *collector.Metrics, logger *slog.Logger) *accounts {
	return &accounts{base: base, src: src, opts: opts, metrics: m, logger: logger}
}

func (a *accounts) targets() []*collector.Target {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.current
}

// reload loads the configuration again, re-reading key files, and swaps in
// new clients. Walks in flight finish on the clients they started with.
func (a *accounts) reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, err := a.src.load()
	if err != nil {
		a.metrics.ConfigLoaded(false)
		return err
	}
	old := map[string]*collector.Target{}
	for _, t := range a.targets() {
		old[t.Name()] = t
	}
	next := make([]*collector.Target, 0, len(cfg.Accounts()))
	for _, acc := range cfg.Accounts() {
		size := a.opts.pageSize
		// Keep a page size the API made us learn, unless the URL changed.
		if prev, ok := old[acc.Name]; ok && prev.Client().URL() == acc.URL {
			size = prev.Client().PageSize()
		}
		client, err := vocode.New(acc.URL, acc.Key(), vocode.Options{
			PageSize: size, Concurrency: a.opts.concurrency, UserAgent: a.opts.userAgent,
			Observer: a.metrics.Observer(acc.Name),
			Logger:   a.logger.With("account", acc.Name),
		})
		if err != nil {
			a.metrics.ConfigLoaded(false)
			return fmt.Errorf("account %s: %w", acc.Name, err)
		}
		t := collector.NewTarget(a.base, acc.Name, client, a.metrics, a.logger)
		if prev, ok := old[acc.Name]; ok {
			t.ContinueFrom(prev)
		}
		next = append(next, t)
		delete(old, acc.Name)
	}
	for name := range old {
		a.metrics.ForgetAccount(name)
	}
	a.mu.Lock()
	replaced := a.current
	a.current = next
	a.mu.Unlock()
	// Walks in flight keep their connections; idle ones of the replaced
	// clients would otherwise linger until the server closes them.
	for _, t := range replaced {
		t.Client().CloseIdleConnections()
	}
	a.metrics.ConfigLoaded(true)
	names := make([]string, len(next))
	for i, t := range next {
		names[i] = t.Name()
	}
	a.logger.Info("configuration loaded", "accounts", names)
	return nil
}

// reloadHandler serves POST /-/reload.
func (a *accounts) reloadHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "reload takes POST or PUT", http.StatusMethodNotAllowed)
		return
	}
	if err := a.reload(); err != nil {
		a.logger.Error("reload failed; the previous configuration keeps serving", "err", err)
		http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "configuration reloaded")
}
