package e2e_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// TestShutdown sends SIGTERM (and SIGINT) while a walk hangs on the API: the
// process must end at once and cleanly, logging the cancelled walk in one
// line and no error.
func TestShutdown(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	for _, tc := range []struct {
		name   string
		sig    os.Signal
		inWalk bool
	}{
		{"SIGTERM during a walk", syscall.SIGTERM, true},
		{"SIGINT during a walk", syscall.SIGINT, true},
		{"SIGTERM when idle", syscall.SIGTERM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(3, 2), canaryCred),
				vocodetest.WithAPIKey(canaryKey))
			t.Cleanup(fake.Close)
			fake.AddFault(vocodetest.Fault{Hang: true})
			exp := e2e.Start(t, bin, e2e.Options{
				Args: []string{"--vocode.url=" + fake.URL, "--vocode.timeout=60s", "--log.level=debug"},
				Env:  []string{"VOCODE_API_KEY=" + canaryKey},
			})

			scraped := make(chan error, 1)
			if tc.inWalk {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					_, err := exp.Scrape(ctx)
					scraped <- err
				}()
				deadline := time.Now().Add(10 * time.Second)
				for fake.Stats().Requests == 0 {
					if time.Now().After(deadline) {
						t.Fatal("the walk never reached the API")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}

			start := time.Now()
			if err := exp.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			code := exp.Wait(5 * time.Second)
			took := time.Since(start)
			if code == -1 {
				t.Fatalf("still running 5 s after %v", tc.sig)
			}
			if code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			if took > 2*time.Second {
				t.Errorf("took %v to exit, want under 2 s", took)
			}
			if tc.inWalk {
				// The scrape in flight gets an answer or a closed
				// connection; either way it does not hang.
				select {
				case err := <-scraped:
					t.Logf("the scrape in flight ended with: %v", err)
				case <-time.After(5 * time.Second):
					t.Error("the scrape in flight still hangs after the exporter exited")
				}
			}

			logs := exp.Logs()
			for _, line := range strings.Split(logs, "\n") {
				if lvl := levelOf(line); lvl == "ERROR" || lvl == "WARN" {
					t.Errorf("shutdown logged at level %s: %s", lvl, line)
				}
			}
			walkLines := logLines(logs, "walk")
			want := 0
			if tc.inWalk {
				want = 1
			}
			if len(walkLines) != want {
				t.Errorf("%d log lines about the walk, want %d:\n%s", len(walkLines), want, strings.Join(walkLines, "\n"))
			}
			if len(logLines(logs, `msg="shutting down"`)) != 1 {
				t.Error("no shutting down line")
			}
			assertNoSecrets(t, "the log", logs)
		})
	}
}
