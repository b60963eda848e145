package charttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
)

// Package writes the chart in dir as NAME-VERSION.tgz into outDir, as
// `helm package` does, but reproducibly: Helm's own writer
// (chartutil.Save) stamps every member with the time of the run, so its
// archive is read back and written again with every member's time set to
// mtime (the commit's, SOURCE_DATE_EPOCH) and no time in the gzip header.
// The members, their order, names, modes and contents stay Helm's. The
// chart must be of version: a release never ships a chart of another.
func Package(dir, outDir, version string, mtime time.Time) (string, error) {
	c, err := LoadChart(dir)
	if err != nil {
		return "", err
	}
	if c.Metadata.Version != version || c.Metadata.AppVersion != version {
		return "", fmt.Errorf("%s: Chart.yaml has version %q and appVersion %q, want %q (the VERSION file)", dir, c.Metadata.Version, c.Metadata.AppVersion, version)
	}
	tmp, err := os.MkdirTemp("", "mkchart-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	saved, err := chartutil.Save(c, tmp)
	if err != nil {
		return "", fmt.Errorf("package %s: %w", dir, err)
	}
	var out bytes.Buffer
	if err := retime(saved, &out, mtime); err != nil {
		return "", fmt.Errorf("%s: %w", saved, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(outDir, filepath.Base(saved))
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		return "", err
	}
	return dst, nil
}

// retime copies the .tgz at src to w with every tar member's time set to
// mtime, owners 0 without names, and the gzip header's extra field and
// comment (Helm's marks) kept, its time and name left out.
func retime(src string, w io.Writer, mtime time.Time) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	zw.Extra, zw.Comment = zr.Extra, zr.Comment
	tr, tw := tar.NewReader(zr), tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s: tar type %q: Helm's packager writes only files", h.Name, h.Typeflag)
		}
		hdr := &tar.Header{Name: h.Name, Mode: h.Mode, Size: h.Size, Typeflag: tar.TypeReg, ModTime: mtime.UTC()}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
