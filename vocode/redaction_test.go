package vocode_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// Credentials in what the API says reach no error text, wherever the API
// says them, and also not in part where a long detail is cut short.
func TestErrorDetailsAreRedacted(t *testing.T) {
	const (
		sid   = "AC0123456789abcdef0123456789abcdef"
		token = "0123456789abcdef0123456789abcdef0123"
		key   = "sk-proj-Zx81Qw_Lm"
	)
	pad := strings.Repeat("x ", 75) // 150 bytes: the detail is cut at 160
	tests := []struct {
		name   string
		fault  vocodetest.Fault
		secret string // no 8 bytes of it may be in the error
		want   string // what the error says instead
	}{
		{name: "Twilio SID in a detail", fault: vocodetest.Fault{Status: 400, Body: `{"detail":"account ` + sid + ` is suspended"}`},
			secret: sid, want: "account <redacted> is suspended"},
		{name: "key in a validation message", fault: vocodetest.Fault{Status: 422,
			Body: `{"detail":[{"loc":["body","openai_api_key"],"msg":"key ` + key + ` is revoked","type":"x"}]}`},
			secret: key, want: "body.openai_api_key: key <redacted> is revoked"},
		{name: "token in a 500", fault: vocodetest.Fault{Status: 500, Body: `{"detail":"upstream: ` + token + `"}`},
			secret: token, want: "upstream: <redacted>"},
		{name: "token where the detail is cut", fault: vocodetest.Fault{Status: 400, Body: `{"detail":"` + pad + token + `"}`},
			secret: token, want: "<redac"},
		{name: "API key where the detail is cut", fault: vocodetest.Fault{Status: 400, Body: `{"detail":"` + pad + vocodetest.DefaultAPIKey + `"}`},
			secret: vocodetest.DefaultAPIKey, want: "<secr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, vocodetest.Dataset(2, 2))
			s.AddFault(tt.fault)
			_, err := newClient(t, s, vocode.Options{}).Walk(context.Background())
			if err == nil {
				t.Fatal("walk succeeded against a failing API")
			}
			if msg := err.Error(); strings.Contains(msg, tt.secret[:8]) || !strings.Contains(msg, tt.want) {
				t.Errorf("err = %q, want %q and no part of %q", msg, tt.want, tt.secret)
			}
		})
	}
}

// A redirect that is not followed names the host it leads to, redacted,
// and nothing of its path or query; one that loops on the API's own host
// is told apart from one that leads away.
func TestRefusedRedirectSaysWhere(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the redirect target received a request")
	}))
	defer other.Close()
	host := strings.TrimPrefix(other.URL, "http://")
	tests := []struct {
		name     string
		location func(r *http.Request) string
		want     []string
		wantNot  []string
	}{
		{name: "another host", location: func(*http.Request) string { return other.URL + "/cb?token=sk-live-9f8e7d&x=1" },
			want: []string{"redirect not followed", "leads away from the configured API", host}, wantNot: []string{"token", "sk-live", "/cb"}},
		{name: "a credential-shaped host", location: func(*http.Request) string { return "https://ACabcdefabcdefabcdefabcdefabcdefab.example/x" },
			want: []string{"redirect not followed", "https://<redacted>.example"}, wantNot: []string{"abcdefabcdef"}},
		{name: "a loop on the API's host", location: func(r *http.Request) string { return r.URL.RequestURI() },
			want: []string{"redirect not followed", "too many redirects"}, wantNot: []string{"leads away"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, vocodetest.Dataset(2, 2))
			s.AddFault(vocodetest.Fault{Handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tt.location(r), http.StatusFound)
			}})
			_, err := newClient(t, s, vocode.Options{}).Walk(context.Background())
			if vocode.ReasonOf(err) != vocode.ReasonClientError {
				t.Fatalf("err = %v, want client_error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to say %q", err, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want nothing of %q", err, w)
				}
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Transport errors are redacted too, and keep what classifies them: a
// certificate that does not verify is still not retried.
func TestTransportErrorsAreRedacted(t *testing.T) {
	const sid = "ACffffffffffffffffffffffffffffffff"
	tests := []struct {
		name      string
		err       error
		wantTries int32
	}{
		{name: "a proxy's words", err: errors.New("proxy refused token sk_live_abc123 for " + sid), wantTries: 3},
		{name: "the API key", err: errors.New("proxy refused key canary-key-17"), wantTries: 3},
		{name: "a certificate", err: &tls.CertificateVerificationError{Err: errors.New("x509: certificate is valid for " + sid + ".example")}, wantTries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tries atomic.Int32
			c, err := vocode.New("https://api.vocode.example", "canary-key-17", vocode.Options{Backoff: time.Millisecond,
				Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
					tries.Add(1)
					return nil, tt.err
				})})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Walk(context.Background())
			if vocode.ReasonOf(err) != vocode.ReasonTransport {
				t.Fatalf("err = %v, want transport", err)
			}
			for _, secret := range []string{"sk_live", "ffffffffffff", "canary-key"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("err = %q quotes %q", err, secret)
				}
			}
			if !strings.Contains(err.Error(), "<redacted>") && !strings.Contains(err.Error(), "<secret>") {
				t.Errorf("err = %q, want a redaction marker", err)
			}
			if got := tries.Load(); got != tt.wantTries {
				t.Errorf("%d tries, want %d", got, tt.wantTries)
			}
		})
	}
}

// Whatever an Error is made of, its text is redacted as a last resort.
func TestErrorTextIsRedacted(t *testing.T) {
	tests := []*vocode.Error{
		{Reason: vocode.ReasonClientError, Page: 2, Status: 400, Detail: "key sk-abc123 rejected"},
		{Reason: vocode.ReasonTransport, Err: errors.New("dial ACabcdefabcdefabcdefabcdefabcdefab: refused")},
		{Reason: vocode.ReasonDecode, Err: fmt.Errorf("wrapped: %w", errors.New("token Zm9vYmFyYmF6cXV4MTIzNDU2"))},
	}
	for _, e := range tests {
		msg := e.Error()
		for _, secret := range []string{"sk-abc123", "abcdefabcdef", "Zm9vYmFy"} {
			if strings.Contains(msg, secret) {
				t.Errorf("Error() = %q quotes %q", msg, secret)
			}
		}
		if !strings.Contains(msg, "<redacted>") {
			t.Errorf("Error() = %q, want a redaction marker", msg)
		}
	}
}

// The configured key is replaced wherever the API echoes it, whatever its
// shape: this does not rest on Redact's shapes, which miss every one of
// these keys.
func TestKeyIsRedactedWhateverItsShape(t *testing.T) {
	for _, key := range []string{"hunter2", "opensesame", "Zm9v/YmFy+YQ==", "abcdef0123456789"} {
		t.Run(key, func(t *testing.T) {
			if vocode.Redact(key) != key {
				t.Fatalf("Redact catches %q by its shape: pick a key it misses", key)
			}
			s := newServer(t, vocodetest.Dataset(1, 1), vocodetest.WithAPIKey(key))
			s.AddFault(vocodetest.Fault{Status: 400, Body: `{"detail":"the key ` + key + ` is not allowed here"}`})
			_, err := newClient(t, s, vocode.Options{}).Walk(context.Background())
			if err == nil {
				t.Fatal("walk succeeded against a failing API")
			}
			if msg := err.Error(); strings.Contains(msg, key) || !strings.Contains(msg, "the key <secret> is not allowed") {
				t.Errorf("err = %q, want the key replaced by <secret>", msg)
			}
		})
	}
}
