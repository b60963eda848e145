package release

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// loadDockerignore reads .dockerignore with the reader and matcher the Docker
// CLI and BuildKit use, so a pattern means here what it means to them.
func loadDockerignore(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(repoFile(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	return pm
}

func excluded(t *testing.T, pm *patternmatcher.PatternMatcher, rel string) bool {
	t.Helper()
	ex, err := pm.MatchesOrParentMatches(rel)
	if err != nil {
		t.Fatalf(".dockerignore on %s: %v", rel, err)
	}
	return ex
}

// copyContext copies the regular files of src that .dockerignore keeps into
// dst: the build context `docker build` would send.
func copyContext(t *testing.T, src, dst string, pm *patternmatcher.PatternMatcher) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		ex := excluded(t, pm, filepath.ToSlash(rel))
		if de.IsDir() {
			// With a "!" pattern, something below an excluded directory may
			// come back, so the walk has to go on into it.
			if ex && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		if ex || !de.Type().IsRegular() {
			return nil
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return copyFile(p, target)
	})
	if err != nil {
		t.Fatalf("copying the build context: %v", err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
