package charttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestPackageReproducible: packaging the chart twice gives the same bytes,
// though the second copy lies elsewhere with other file times and modes;
// every member carries the given time; the package loads and renders as
// the chart's directory does.
func TestPackageReproducible(t *testing.T) {
	c := loadChart(t)
	version := c.Metadata.Version
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	first, err := Package(chartDir, t.TempDir(), version, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(first) != "vocode-exporter-"+version+".tgz" {
		t.Errorf("package %s, want vocode-exporter-%s.tgz", filepath.Base(first), version)
	}
	elsewhere := filepath.Join(t.TempDir(), "another", "vocode-exporter")
	copyDir(t, chartDir, elsewhere, time.Now().Add(-48*time.Hour))
	second, err := Package(elsewhere, t.TempDir(), version, mtime)
	if err != nil {
		t.Fatal(err)
	}
	a, b := readBytes(t, first), readBytes(t, second)
	if !bytes.Equal(a, b) {
		t.Fatalf("two packages of the chart differ (%d and %d bytes)", len(a), len(b))
	}

	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header has time %v, name %q: want neither", zr.ModTime, zr.Name)
	}
	tr := tar.NewReader(zr)
	n := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if !h.ModTime.Equal(mtime) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: time %v, owner %d:%d; want %v, 0:0", h.Name, h.ModTime, h.Uid, h.Gid, mtime)
		}
	}
	if n < 10 {
		t.Errorf("the package holds %d files", n)
	}

	packaged, err := LoadChart(first)
	if err != nil {
		t.Fatal(err)
	}
	values, err := ReadValues(filepath.Join(chartDir, "ci", "probe-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := Render(c, values)
	if err != nil {
		t.Fatal(err)
	}
	fromPackage, err := Render(packaged, values)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromDir, fromPackage) {
		t.Error("the package renders otherwise than the chart's directory")
	}

	if _, err := Package(chartDir, t.TempDir(), "9.9.9", mtime); err == nil {
		t.Error("packaged the chart as version 9.9.9, which is not its version")
	}
}

// copyDir copies a directory tree, giving each file mode 0600 and the time
// mtime.
func copyDir(t *testing.T, src, dst string, mtime time.Time) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			return err
		}
		return os.Chtimes(to, mtime, mtime)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
