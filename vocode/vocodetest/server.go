package vocodetest

import (
	"net/http"
	"net/http/httptest"
)

// Server is a fake Vocode API listening on a loopback port.
type Server struct {
	*API
	URL    string // base URL, e.g. http://127.0.0.1:41234, to pass as --vocode.url
	APIKey string // the key it accepts
	ts     *httptest.Server
}

// NewServer starts a fake serving conns over plain HTTP.
func NewServer(conns []Connection, opts ...Option) *Server {
	s := NewUnstartedServer(conns, opts...)
	s.Start()
	return s
}

// NewTLSServer starts a fake serving conns over HTTPS with a certificate
// only s.Client() trusts.
func NewTLSServer(conns []Connection, opts ...Option) *Server {
	s := NewUnstartedServer(conns, opts...)
	s.StartTLS()
	return s
}

// NewUnstartedServer returns a fake that is not yet listening, so its
// httptest.Server (s.HTTPTest()) can be configured first.
func NewUnstartedServer(conns []Connection, opts ...Option) *Server {
	api := NewAPI(conns, opts...)
	return &Server{API: api, APIKey: api.key, ts: httptest.NewUnstartedServer(api)}
}

// Start starts serving plain HTTP.
func (s *Server) Start() { s.ts.Start(); s.URL = s.ts.URL }

// StartTLS starts serving HTTPS.
func (s *Server) StartTLS() { s.ts.StartTLS(); s.URL = s.ts.URL }

// HTTPTest returns the underlying httptest server.
func (s *Server) HTTPTest() *httptest.Server { return s.ts }

// Client returns an HTTP client that trusts the fake's certificate.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close releases hanging requests, then shuts the server down.
func (s *Server) Close() {
	s.API.Close()
	s.ts.CloseClientConnections()
	s.ts.Close()
}
