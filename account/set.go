// Package account holds the configured Vocode accounts and their walks: Set
// loads the configuration and applies each reload; an Account shares one walk
// at a time between the scrapes that arrive while it runs, and every walk
// ends by a deadline fixed when it starts.
package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// Set is the set of accounts the current configuration names, and the one
// place that changes it: Reload loads the configuration again and applies
// it. An account whose name survives a reload stays the same Account; a
// removed one is closed, and its series go with it.
type Set struct {
	base   context.Context
	opts   Options
	logger *slog.Logger

	reloadMu sync.Mutex // one reload at a time
	mu       sync.RWMutex
	list     []*Account // in configuration order
	byName   map[string]*Account
	last     ReloadStatus
}

// ReloadStatus describes the last configuration load, for the status page
// and the exporter's reload gauges.
type ReloadStatus struct {
	OK          bool
	At          time.Time // when it was tried
	LastSuccess time.Time
	// Err says why it failed. Configuration errors name the problem and
	// where it is, never a key.
	Err string
}

// Options configure NewSet.
type Options struct {
	// Load returns the configuration; it is called by every Reload.
	Load func() (*config.Config, error)
	// Enabled says what a walk reads besides the connection list.
	Enabled Enabled
	// Calls says which calls a walk counts when Enabled.Calls; its zero
	// fields take vocode's defaults.
	Calls vocode.CallsQuery
	// WalkTimeout is the longest one walk may take, fixed when the walk
	// starts; it must be positive (--vocode.timeout).
	WalkTimeout time.Duration
	// Client is the template of every account's API client options;
	// Observer and Logger are set per account. Without a Transport, the
	// accounts share one (vocode.NewTransport): they mostly call the same
	// API host, and keep-alive connections then serve every account
	// instead of idling per account.
	Client vocode.Options
	// NewRecorder makes the series an account keeps between scrapes; nil
	// records nothing.
	NewRecorder func(account string, enabled Enabled) Recorder
	Logger      *slog.Logger
}

// NewSet returns an empty set; call Reload to load the configuration. Walks
// end with base.
func NewSet(base context.Context, o Options) (*Set, error) {
	if o.WalkTimeout <= 0 {
		return nil, fmt.Errorf("the walk timeout must be positive, got %v: every walk needs a deadline", o.WalkTimeout)
	}
	if o.Load == nil {
		return nil, errors.New("no configuration loader")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client.Transport == nil {
		t := vocode.NewTransport(o.Client)
		// The transport's timeouts are a net under the walk's context, not
		// a tighter limit: an answer may take as long as a walk may.
		t.ResponseHeaderTimeout = max(t.ResponseHeaderTimeout, o.WalkTimeout)
		o.Client.Transport = t
	}
	return &Set{base: base, opts: o, logger: o.Logger, byName: map[string]*Account{}}, nil
}

// All returns the current accounts in configuration order.
func (s *Set) All() []*Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.list
}

// Get returns the current account named name, or nil.
func (s *Set) Get(name string) *Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byName[name]
}

// Reload loads the configuration, re-reading key files, and applies it. A
// configuration that fails to load or apply changes nothing: the current
// one keeps serving.
func (s *Set) Reload() error {
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
func (s *Set) LastReload() ReloadStatus {
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

func (s *Set) apply() (err error) {
	cfg, err := s.opts.Load()
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
			p.account = newAccount(s.base, acc, &s.opts)
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

// newClient builds the client for acc. What the API made the account
// learn (page sizes, the calls list's order) is kept while the URL stays
// the same: a new key reaches the same API.
func (s *Set) newClient(a *Account, acc config.Account) (*vocode.Client, error) {
	opts := s.opts.Client
	opts.Observer = a.recorder.ObserveRequest
	opts.Logger = a.logger
	if old := a.Client(); old != nil && old.URL() == acc.URL {
		opts.PageSize, opts.NumbersPageSize, opts.CallsPageSize = old.PageSize(), old.NumbersPageSize(), old.CallsPageSize()
		opts.AgentsPageSize = old.AgentsPageSize()
		opts.CallsLearned = old.CallsLearned()
	}
	return vocode.New(acc.URL, acc.Key(), opts)
}
