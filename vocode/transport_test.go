package vocode

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewTransport(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantIdle int
	}{
		{name: "zero options", opts: Options{}, wantIdle: DefaultConcurrency + 1},
		{name: "concurrency", opts: Options{Concurrency: 8}, wantIdle: 9},
		{name: "concurrency below the default", opts: Options{Concurrency: 1}, wantIdle: DefaultConcurrency + 1},
		{name: "budget", opts: Options{Concurrency: 8, Budget: NewBudget(16)}, wantIdle: 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTransport(tt.opts)
			if tr.MaxIdleConnsPerHost != tt.wantIdle {
				t.Errorf("MaxIdleConnsPerHost = %d, want %d", tr.MaxIdleConnsPerHost, tt.wantIdle)
			}
			if tr.ResponseHeaderTimeout != time.Minute || tr.TLSHandshakeTimeout != 10*time.Second || tr.DialContext == nil {
				t.Errorf("timeouts: header %v, TLS handshake %v, dialer set %v; want 1m, 10s, true",
					tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout, tr.DialContext != nil)
			}
			if tr.Proxy == nil {
				t.Error("the environment's proxy settings are not honoured")
			}
		})
	}
}

// silentServer accepts connections and reads what they send, but never
// answers: an API that stalls before its headers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(io.Discard, conn) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// A request whose context has no deadline still ends when the API never
// answers: the transport New makes by default closes it once its headers
// are overdue. The timeout is shortened here; its value is checked first.
func TestStalledAnswerEndsWithoutADeadline(t *testing.T) {
	c, err := New(silentServer(t), "test-key", Options{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok || tr.ResponseHeaderTimeout != ResponseHeaderTimeout {
		t.Fatalf("the default transport has no response header timeout (%T)", c.http.Transport)
	}
	tr.ResponseHeaderTimeout = 200 * time.Millisecond

	done := make(chan error, 1)
	go func() {
		_, err := c.Usage(context.Background())
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second): // a guard only: the timeout is 200ms
		t.Fatal("a request to an API that never answers is still waiting after 30s")
	}
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonTimeout || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Errorf("err = %v, want the transport's timeout awaiting response headers", err)
	}
}
