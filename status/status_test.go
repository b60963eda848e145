package status

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secretKey = "vcdKEY-status-canary-9Zq"

// pageFixture serves a healthy, a failing and a never-walked account.
func pageFixture(t *testing.T) (*account.Set, *string) {
	t.Helper()
	healthy := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(3, 2), "CRED-canary"), vocodetest.WithAPIKey(secretKey))
	t.Cleanup(healthy.Close)
	failing := vocodetest.NewServer(vocodetest.Dataset(1, 1), vocodetest.WithAPIKey(secretKey))
	failing.AddFault(vocodetest.Fault{Status: http.StatusServiceUnavailable, Body: `{"detail":"down for ` + secretKey + `"}`})
	// The healthy account's numbers list fails: its row says so.
	healthy.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointNumbers, Status: http.StatusForbidden})
	t.Cleanup(failing.Close)
	yaml := fmt.Sprintf("accounts:\n"+
		"  - {name: healthy, url: %q, api_key: %s}\n"+
		"  - {name: failing, url: %q, api_key: %s}\n"+
		"  - {name: idle, url: %q, api_key: %s}\n", healthy.URL, secretKey, failing.URL, secretKey, healthy.URL, secretKey)
	accounts := loadAccounts(t, &yaml, account.Enabled{Usage: true, Numbers: true})
	for _, name := range []string{"healthy", "failing"} {
		accounts.Get(name).Scrape(context.Background())
	}
	return accounts, &yaml
}

// loadAccounts loads the accounts *yaml lists, as a reload reads it then,
// and ends their walks and connections with the test.
func loadAccounts(t *testing.T, yaml *string, enabled account.Enabled) *account.Set {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	accounts, err := account.NewSet(ctx, account.Options{
		Load:        func() (*config.Config, error) { return config.Parse([]byte(*yaml), "", t.TempDir()) },
		WalkTimeout: 10 * time.Second,
		Client:      vocode.Options{Retries: -1},
		Enabled:     enabled,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		for _, a := range accounts.All() {
			a.Client().CloseIdleConnections()
		}
	})
	if err := accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	return accounts
}

func render(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// row returns the table row of account.
func rowOf(t *testing.T, page, account string) string {
	t.Helper()
	start := strings.Index(page, `<tr data-account="`+account+`">`)
	if start < 0 {
		t.Fatalf("no row for %s:\n%s", account, page)
	}
	end := strings.Index(page[start:], "</tr>")
	return page[start : start+end]
}

func TestStatusPage(t *testing.T) {
	accounts, _ := pageFixture(t)
	h := Handler(accounts, Options{Version: "(version=1.2.3)", MetricsPath: "/metrics"})
	code, page := render(t, h, "/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	tests := []struct {
		account string
		want    []string
	}{
		{"healthy", []string{`class="ok">ok (numbers: auth failed)<`, "openai 2, twilio 3", `<td class="num">1</td>`, `href="/probe?account=healthy"`}},
		{"failing", []string{`class="failed">server_error (HTTP 503)<`, `<td>-</td>`, `href="/probe?account=failing"`}},
		{"idle", []string{"not walked yet", `href="/probe?account=idle"`}},
	}
	for _, tt := range tests {
		r := rowOf(t, page, tt.account)
		for _, w := range tt.want {
			if !strings.Contains(r, w) {
				t.Errorf("row of %s lacks %s:\n%s", tt.account, w, r)
			}
		}
	}
	for _, want := range []string{"(version=1.2.3)", `<span class="ok">loaded</span>`, `href="/metrics"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, secret := range []string{secretKey, "CRED-canary"} {
		if strings.Contains(page, secret) {
			t.Errorf("the page shows the secret %s", secret)
		}
	}
	if code, _ := render(t, h, "/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", code)
	}
}

// A failed reload shows on the page, with the reason, while the previous
// accounts keep their rows.
func TestStatusPageFailedReload(t *testing.T) {
	accounts, yaml := pageFixture(t)
	*yaml += "  - {name: bad name}\n"
	if err := accounts.Reload(); err == nil {
		t.Fatal("a broken configuration loaded")
	}
	_, page := render(t, Handler(accounts, Options{MetricsPath: "/metrics", ProbeOnly: true}), "/")
	for _, want := range []string{
		`<span class="failed">last reload failed</span>`, `name &#34;bad name&#34; may hold only`,
		`keeps serving`, `data-account="healthy"`, "Probe-only mode",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "just now", 400 * time.Millisecond: "just now", 1600 * time.Millisecond: "2s ago", 90 * time.Minute: "1h30m0s ago",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
}
