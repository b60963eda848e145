package e2e_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// selfSignedCert writes a certificate for 127.0.0.1 and localhost, and its
// key, into dir; it returns their paths and a pool that trusts it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "vocode_exporter e2e"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestWebConfig runs the exporter behind exporter-toolkit's TLS and basic
// auth, as a user would with --web.config.file.
func TestWebConfig(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)

	const user = "prometheus"
	password := "web-canary-" + rand.Text()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := writeFile(t, dir, "web.yml", fmt.Sprintf(
		"tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n",
		certFile, keyFile, user, hash))

	fake := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(2, 1), canaryCred),
		vocodetest.WithAPIKey(canaryKey))
	t.Cleanup(fake.Close)
	exp := e2e.Start(t, bin, e2e.Options{
		Args:   []string{"--web.config.file=" + webConfig, "--vocode.url=" + fake.URL, "--log.level=debug"},
		Env:    []string{"VOCODE_API_KEY=" + canaryKey},
		NoWait: true, // e2e waits over plain HTTP, which this listener refuses
	})
	base := "https://" + exp.Addr

	trusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(trusting.CloseIdleConnections)
	get := func(c *http.Client, url, user, pass string) (int, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, "", err
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	// Ready once TLS and auth answer.
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _, err := get(trusting, base+"/-/ready", user, password)
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) || exp.Wait(0) != -1 {
			t.Fatalf("exporter not ready over TLS: %d %v\n%s", code, err, exp.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}

	t.Run("right credentials", func(t *testing.T) {
		code, body, err := get(trusting, base+"/metrics", user, password)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /metrics: %d %v", code, err)
		}
		mfs := families(t, body)
		if got := mustValue(t, mfs, "vocode_up", "account", "default"); got != 1 {
			t.Errorf("vocode_up = %v over TLS, want 1", got)
		}
		assertNoSecrets(t, "/metrics", body)
		code, body, err = get(trusting, base+"/", user, password)
		if err != nil || code != http.StatusOK || !strings.Contains(body, "/metrics") {
			t.Errorf("landing page: %d %v", code, err)
		}
		code, body, err = get(trusting, base+"/probe?account=default", user, password)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /probe: %d %v", code, err)
		}
		if got := mustValue(t, families(t, body), "vocode_up", "account", "default"); got != 1 {
			t.Errorf("vocode_up = %v from /probe over TLS, want 1", got)
		}
		assertNoSecrets(t, "/probe", body)
	})
	for _, tc := range []struct{ name, user, pass, path string }{
		{"wrong password", user, password + "x", "/metrics"},
		{"wrong user", "admin", password, "/metrics"},
		{"no credentials", "", "", "/metrics"},
		{"empty password", user, "", "/metrics"},
		{"wrong password on the landing page", user, "nope", "/"},
		{"wrong password on reload", user, "nope", "/-/reload"},
		{"wrong password on a probe", user, "nope", "/probe?account=default"},
		{"no credentials on a probe", "", "", "/probe?account=default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, err := get(trusting, base+tc.path, tc.user, tc.pass)
			if err != nil {
				t.Fatal(err)
			}
			if code != http.StatusUnauthorized {
				t.Errorf("GET %s answered %d, want 401", tc.path, code)
			}
			if strings.Contains(body, "vocode_") {
				t.Errorf("a 401 answer carries metrics: %.200s", body)
			}
		})
	}
	t.Run("plain HTTP to the TLS listener", func(t *testing.T) {
		plain := &http.Client{Timeout: 10 * time.Second}
		defer plain.CloseIdleConnections()
		code, body, err := get(plain, "http://"+exp.Addr+"/metrics", user, password)
		if err == nil && (code == http.StatusOK || strings.Contains(body, "vocode_up")) {
			t.Fatalf("plain HTTP got %d with metrics from a TLS listener", code)
		}
		if err == nil && code != http.StatusBadRequest {
			t.Errorf("plain HTTP answered %d, want an error or 400", code)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		untrusting := &http.Client{Timeout: 10 * time.Second}
		defer untrusting.CloseIdleConnections()
		if _, _, err := get(untrusting, base+"/metrics", user, password); err == nil {
			t.Error("a client that does not trust the certificate connected")
		}
	})

	for _, where := range []string{"the log", "the command line"} {
		text := exp.Logs()
		if where == "the command line" {
			text = strings.Join(exp.Cmd.Args, " ")
		}
		if strings.Contains(text, password) {
			t.Errorf("the basic auth password leaked into %s", where)
		}
	}
	assertNoSecrets(t, "the log", exp.Logs())
}
