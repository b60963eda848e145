package statustest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

func TestMain(m *testing.M) { e2e.Main(m) }

const (
	healthyKey = "vcdKEY-browser-healthy-4Tq"
	revokedKey = "vcdKEY-browser-revoked-8Rw"
	credCanary = "CRED-browser-canary-2Xy"
)

// findChromium returns Debian's chromium; under make test (and CI) a missing
// browser fails the test instead of skipping it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv(e2e.RequireEnv) == "1" {
		t.Fatalf("no chromium installed, and %s=1", e2e.RequireEnv)
	}
	t.Skipf("no chromium installed (set %s=1 to fail instead)", e2e.RequireEnv)
	return ""
}

// TestStatusPageInBrowser loads the status page of an exporter with a
// healthy and a failing account, checks each row as the browser renders it,
// follows a probe link, and saves a screenshot with the test's output
// (go test -artifacts keeps it; the path is logged).
func TestStatusPageInBrowser(t *testing.T) {
	browser := findChromium(t)
	healthy := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(3, 2), credCanary),
		vocodetest.WithAPIKey(healthyKey))
	t.Cleanup(healthy.Close)
	revoked := vocodetest.NewServer(vocodetest.Dataset(1, 1), vocodetest.WithAPIKey(healthyKey))
	t.Cleanup(revoked.Close)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	config := fmt.Sprintf("accounts:\n"+
		"  - {name: production, url: %q, api_key: %s}\n"+
		"  - {name: revoked, url: %q, api_key: %s}\n"+
		"  - {name: staging, url: %q, api_key: %s}\n",
		healthy.URL, healthyKey, revoked.URL, revokedKey, healthy.URL, healthyKey)
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	exp := e2e.Start(t, e2e.Build(t), e2e.Options{Args: []string{"--config.file=" + cfg, "--web.probe-only"}})
	for _, account := range []string{"production", "revoked"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		code, _, err := exp.Get(ctx, "/probe?account="+account)
		cancel()
		if err != nil || code != http.StatusOK {
			t.Fatalf("probe of %s: %d %v", account, code, err)
		}
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // CI runs as root, where chromium's sandbox cannot start
		chromedp.WindowSize(1100, 600),
		chromedp.UserDataDir(t.TempDir()),
	)...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	cell := func(account string, column int) string {
		return fmt.Sprintf(`#accounts tr[data-account="%s"] td:nth-child(%d)`, account, column)
	}
	want := map[string]string{
		cell("production", 1): "production",
		cell("production", 2): "ok",
		cell("production", 5): "1",
		cell("production", 6): "openai 2, twilio 3",
		cell("revoked", 1):    "revoked",
		cell("revoked", 2):    "auth (HTTP 401)",
		cell("revoked", 6):    "-",
		cell("staging", 2):    "not walked yet",
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(exp.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#accounts")),
	); err != nil {
		t.Fatalf("loading the status page in chromium: %v", err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.ArtifactDir(), "status-page.png")
	if err := os.WriteFile(shot, screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the status page: %s", shot)

	if title != "Vocode Exporter" {
		t.Errorf("title %q", title)
	}
	if reload := text("#reload"); !strings.Contains(reload, "loaded") || !strings.Contains(reload, "Probe-only mode") {
		t.Errorf("configuration paragraph reads %q", reload)
	}
	for sel, w := range want {
		if g := text(sel); g != w {
			t.Errorf("%s reads %q, want %q", sel, g, w)
		}
	}
	for _, secret := range []string{healthyKey, revokedKey, credCanary} {
		if strings.Contains(page, secret) {
			t.Errorf("the page shows the secret %s", secret)
		}
	}

	// The probe link of a row leads to that account's series.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#accounts tr[data-account="production"] a`)),
		chromedp.WaitReady(chromedp.CSS("body")),
	); err != nil {
		t.Fatalf("following the probe link: %v", err)
	}
	metrics := text("body")
	if !strings.Contains(metrics, `vocode_up{account="production"} 1`) || strings.Contains(metrics, `account="revoked"`) {
		t.Errorf("the probe link of production shows:\n%.600s", metrics)
	}
}
