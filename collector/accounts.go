package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// Accounts is the set of accounts the current configuration names, and the
// one place that changes it: Reload loads the configuration again and
// applies it. An account whose name survives a reload stays the same
// Account; a removed one is closed, and its series go with it.
//
// Accounts is also a prometheus.Collector for the exporter's own series
// about configuration loads.
type Accounts struct {
	base       context.Context
	load       func() (*config.Config, error)
	client     vocode.Options
	collectors Collectors
	logger     *slog.Logger
	reload     reloadMetrics
	budget     []prometheus.Collector // the request budget's series, if any

	reloadMu sync.Mutex // one reload at a time
	mu       sync.RWMutex
	list     []*Account // in configuration order
	byName   map[string]*Account
	last     ReloadStatus
}

// ReloadStatus describes the last configuration load, for the status page.
type ReloadStatus struct {
	OK          bool
	At          time.Time // when it was tried
	LastSuccess time.Time
	// Err says why it failed. Configuration errors name the problem and
	// where it is, never a key.
	Err string
}

// AccountsOptions configure NewAccounts.
type AccountsOptions struct {
	// Load returns the configuration; it is called by every Reload.
	Load func() (*config.Config, error)
	// Collectors say what a walk reads besides the connection list.
	Collectors Collectors
	// Client is the template of every account's API client options;
	// Observer and Logger are set per account. Without a Transport, the
	// accounts share one: they mostly call the same API host, and keep-alive
	// connections then serve every account instead of idling per account.
	Client vocode.Options
	Logger *slog.Logger
}

// NewAccounts returns an empty set; call Reload to load the configuration.
// Walks end with base.
func NewAccounts(base context.Context, o AccountsOptions) *Accounts {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if o.Client.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(o.Client.Concurrency, vocode.DefaultConcurrency) + 1
		if o.Client.Budget != nil {
			t.MaxIdleConnsPerHost = o.Client.Budget.Limit() + 1
		}
		o.Client.Transport = t
	}
	s := &Accounts{base: base, load: o.Load, client: o.Client, collectors: o.Collectors, logger: logger,
		budget: newBudgetMetrics(o.Client.Budget), byName: map[string]*Account{}}
	s.reload = newReloadMetrics(s.LastReload)
	return s
}

// All returns the current accounts in configuration order.
func (s *Accounts) All() []*Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.list
}

// Get returns the current account named name, or nil.
func (s *Accounts) Get(name string) *Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byName[name]
}

// Reload loads the configuration, re-reading key files, and applies it. A
// configuration that fails to load or apply changes nothing: the current
// one keeps serving.
func (s *Accounts) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	err := s.apply()
	s.mu.Lock()
	s.last.OK, s.last.At, s.last.Err = err == nil, time.Now(), ""
	if err != nil {
		s.last.Err = err.Error()
	} else {
		s.last.LastSuccess = s.last.At
	}
	s.mu.Unlock()
	return err
}

// LastReload returns the status of the last configuration load.
func (s *Accounts) LastReload() ReloadStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.last
}

// pending is an account of the new configuration, with the client it needs
// if its API URL or key changed (nil if not).
type pending struct {
	account *Account
	cfg     config.Account
	client  *vocode.Client
}

func (s *Accounts) apply() (err error) {
	cfg, err := s.load()
	if err != nil {
		return err
	}
	// Every client is built before anything changes, so that a
	// configuration that cannot be applied leaves the current one whole.
	next := make([]pending, 0, len(cfg.Accounts()))
	for _, acc := range cfg.Accounts() {
		p := pending{account: s.Get(acc.Name), cfg: acc}
		if p.account != nil && p.account.sameAPI(acc) {
			next = append(next, p)
			continue
		}
		if p.account == nil {
			p.account = newAccount(s.base, acc, s.collectors, s.logger)
			defer func() {
				if err != nil {
					p.account.close()
				}
			}()
		}
		if p.client, err = s.newClient(p.account, acc); err != nil {
			return fmt.Errorf("account %s: %w", acc.Name, err)
		}
		next = append(next, p)
	}

	list := make([]*Account, len(next))
	byName := make(map[string]*Account, len(next))
	for i, p := range next {
		p.account.use(p.cfg, p.client)
		list[i], byName[p.cfg.Name] = p.account, p.account
	}
	s.mu.Lock()
	old := s.byName
	s.list, s.byName = list, byName
	s.mu.Unlock()
	for name, a := range old {
		if byName[name] == nil {
			a.close()
		}
	}

	names := make([]string, len(list))
	for i, a := range list {
		names[i] = a.name
	}
	s.logger.Info("configuration loaded", "accounts", names)
	return nil
}

// newClient builds the client for acc. A page size the API made the
// account learn is kept while the URL stays the same.
func (s *Accounts) newClient(a *Account, acc config.Account) (*vocode.Client, error) {
	opts := s.client
	opts.Observer = a.metrics.observe
	opts.Logger = a.logger
	if old := a.Client(); old != nil && old.URL() == acc.URL {
		opts.PageSize, opts.NumbersPageSize = old.PageSize(), old.NumbersPageSize()
	}
	return vocode.New(acc.URL, acc.Key(), opts)
}

// ServeReload serves POST /-/reload.
func (s *Accounts) ServeReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "reload takes POST or PUT", http.StatusMethodNotAllowed)
		return
	}
	if err := s.Reload(); err != nil {
		s.logger.Error("reload failed; the previous configuration keeps serving", "err", err)
		http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "configuration reloaded")
}

// Describe implements prometheus.Collector.
func (s *Accounts) Describe(ch chan<- *prometheus.Desc) {
	s.reload.succeeded.Describe(ch)
	s.reload.time.Describe(ch)
	for _, c := range s.budget {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (s *Accounts) Collect(ch chan<- prometheus.Metric) {
	s.reload.succeeded.Collect(ch)
	s.reload.time.Collect(ch)
	for _, c := range s.budget {
		c.Collect(ch)
	}
}
