package e2e_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// TestProbe runs the multi-target pattern against the binary: each account
// probed on its own, bad probes turned away with a 400 that walks nothing,
// probe-only /metrics, and a probe of an account a reload removed.
func TestProbe(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	victim := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(3, 2), canaryCred),
		vocodetest.WithAPIKey(canaryKey))
	t.Cleanup(victim.Close)
	control := vocodetest.NewServer(vocodetest.Dataset(1, 4), vocodetest.WithAPIKey(canaryKey2))
	t.Cleanup(control.Close)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	victimAcct := account{accountName, victim.URL, writeFile(t, dir, "victim.key", canaryKey)}
	controlAcct := account{controlName, control.URL, writeFile(t, dir, "control.key", canaryKey2)}
	writeConfig(t, cfg, victimAcct, controlAcct)
	exp := e2e.Start(t, bin, e2e.Options{Args: []string{"--config.file=" + cfg, "--web.probe-only"}})
	get := func(path string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		code, body, err := exp.Get(ctx, path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return code, body
	}

	code, body := get("/metrics")
	if code != http.StatusOK || strings.Contains(body, `account="`) || !strings.Contains(body, "vocode_exporter_build_info") {
		t.Errorf("probe-only /metrics answered %d with account series or without build info:\n%.400s", code, body)
	}
	if n := victim.Stats().Requests + control.Stats().Requests; n != 0 {
		t.Errorf("probe-only /metrics walked the API (%d requests)", n)
	}

	code, body = get("/probe?account=" + accountName)
	if code != http.StatusOK {
		t.Fatalf("probe answered %d: %s", code, body)
	}
	mfs := families(t, body)
	mustUp(t, mfs, accountName, 1)
	if got := mustValue(t, mfs, "vocode_account_connections", "account", accountName, "type", "twilio"); got != 3 {
		t.Errorf("probe: %v twilio connections, want 3", got)
	}
	mustValue(t, mfs, "vocode_api_requests_total", "account", accountName, "endpoint", "account_connections_list", "code", "200")
	if strings.Contains(body, `account="`+controlName+`"`) {
		t.Error("the probe of one account serves another's series")
	}
	assertNoSecrets(t, "/probe", body)
	if n := control.Stats().Requests; n != 0 {
		t.Errorf("probing %s walked %s (%d requests)", accountName, controlName, n)
	}

	for _, path := range []string{"/probe", "/probe?account=", "/probe?account=nobody", "/probe?account=" + accountName + "&account=" + controlName} {
		code, body := get(path)
		if code != http.StatusBadRequest || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("GET %s = %d %q, want 400 with a one-line reason", path, code, body)
		}
	}
	if n := control.Stats().Requests; n != 0 {
		t.Errorf("bad probes walked the API (%d requests)", n)
	}

	writeConfig(t, cfg, controlAcct)
	if code, answer := postReload(t, exp); code != http.StatusOK {
		t.Fatalf("POST /-/reload answered %d %q", code, answer)
	}
	if code, body := get("/probe?account=" + accountName); code != http.StatusBadRequest || !strings.Contains(body, "unknown account") {
		t.Errorf("probe of a removed account = %d %q, want 400", code, body)
	}
	code, body = get("/probe?account=" + controlName)
	if code != http.StatusOK {
		t.Fatalf("probe answered %d: %s", code, body)
	}
	mustUp(t, families(t, body), controlName, 1)
	assertProcessClean(t, exp)
}
