package release

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/mod/modfile"
)

const exporterModule = "github.com/vocode-exporter/vocode_exporter"

// findRoot relies on go test running a package's tests in its directory,
// and on this module living at internal/release of the exporter's tree.
var findRoot = sync.OnceValues(func() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	if got := modfile.ModulePath(b); got != exporterModule {
		return "", fmt.Errorf("%s/go.mod is module %q, not %s", root, got, exporterModule)
	}
	return root, nil
})

// repoRoot returns the directory holding the exporter module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := findRoot()
	if err != nil {
		t.Fatalf("cannot find the repository root: %v", err)
	}
	return root
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
