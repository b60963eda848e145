package release

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A plain `go build` in a git checkout, without the Makefile's linker flags,
// reports the VERSION file's version with "-dev", and the commit and its time
// that go build stamps (main.go's fillVersion, with prometheus/common's
// revision fallback).
//
// The work tree is copied into a new repository with one commit of a known
// time, so that what is built is the tree as it is (changes not committed
// included), and so that go build stamps VCS information even where the
// checkout is a git worktree (whose .git is a file, which go build does not
// recognise).
func TestPlainGoBuildReportsBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the exporter; skipped in -short mode")
	}
	root := repoRoot(t)
	version := strings.TrimSpace(readRepoFile(t, "VERSION"))
	src := filepath.Join(t.TempDir(), "checkout")
	copyTrackedTree(t, root, src)

	const commitDate = "2026-01-02T03:04:05Z"
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{
			"-c", "user.name=release test", "-c", "user.email=release-test@invalid",
			"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main",
		}, args...)...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+commitDate, "GIT_COMMITTER_DATE="+commitDate)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "the work tree")
	revision := git("rev-parse", "HEAD")

	bin := filepath.Join(t.TempDir(), binaryName)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// Plain, as make test builds the binary of the end-to-end tests: the
	// packages outside the main module come from the build cache instead of
	// a compilation of their own. GOFLAGS overrides a -buildvcs=false from
	// `go env -w`.
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(buildEnv(nil), "GOFLAGS=-buildvcs=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	vctx, vcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer vcancel()
	out, err := exec.CommandContext(vctx, bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	for _, want := range []string{
		binaryName + ", version " + version + "-dev (",
		"revision: " + revision + ")",
		"build date:       20260102-03:04:05\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--version lacks %q:\n%s", want, out)
		}
	}
}
