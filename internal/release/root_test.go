package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  string
)

// repoRoot returns the directory holding the main module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	rootOnce.Do(func() {
		if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
			gomod := strings.TrimSpace(string(out))
			if gomod != "" && gomod != os.DevNull {
				rootDir = filepath.Dir(gomod)
				return
			}
		}
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err.Error()
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = "no go.mod found above the test directory"
				return
			}
			dir = parent
		}
	})
	if rootDir == "" {
		t.Fatalf("cannot find the repository root: %s", rootErr)
	}
	return rootDir
}

// repoFile returns the path of a file given relative to the repository root.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	return filepath.Join(repoRoot(t), filepath.FromSlash(rel))
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(repoFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
