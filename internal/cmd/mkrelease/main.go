// Command mkrelease builds the release archives of `make release`: for each
// platform a static binary, cross-compiled with the version information of
// the release, packed with the given files into
// NAME-VERSION.OS-ARCH.tar.gz (.zip for Windows) under one top-level
// directory of that name, plus sha256sums.txt over the archives and the
// files already in the output directory that -sum names (the Helm chart,
// which `make chart` packages).
//
// The archives are reproducible: the same commit, VERSION and Go toolchain
// give the same bytes on any machine. The binaries are built with -trimpath
// and without VCS stamping, and their build date is the commit's time
// (SOURCE_DATE_EPOCH), not the clock's. The archives are written here with
// Go's archive/tar, archive/zip and compress/gzip rather than the machine's
// tar, gzip and zip, whose output differs between their versions and
// options: entries are sorted, every time is the commit's, owners are 0 and
// modes fixed, and the gzip header carries no name and no time.
//
// Run it from the module's root, as the Makefile does:
//
//	go run ./internal/cmd/mkrelease -out dist -version 0.1.0 -revision $(git rev-parse HEAD) \
//	    -epoch $(git log -1 --format=%ct) LICENSE README.md ...
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const versionPkg = "github.com/prometheus/common/version"

// buildDateLayout is the layout of the build dates the Makefile stamps.
const buildDateLayout = "20060102-15:04:05"

func main() {
	var o options
	flag.StringVar(&o.out, "out", "", "directory to write the archives and sha256sums.txt into (created)")
	flag.StringVar(&o.name, "name", "vocode_exporter", "program name: the binary's and the archives' prefix")
	flag.StringVar(&o.pkg, "pkg", ".", "main package to build")
	flag.StringVar(&o.version, "version", "", "release version (the VERSION file)")
	flag.StringVar(&o.revision, "revision", "", "commit the release is built from")
	flag.Int64Var(&o.epoch, "epoch", -1, "SOURCE_DATE_EPOCH: the commit's time, in Unix seconds; the build date and every time in the archives")
	flag.StringVar(&o.buildUser, "build-user", "release", "build user to stamp: fixed, so that who builds does not change the bytes")
	flag.Func("sum", "a file already in -out (the Helm chart's package) to list in sha256sums.txt too; repeatable", func(s string) error {
		if s != filepath.Base(s) {
			return fmt.Errorf("%s: name a file of -out, without a directory", s)
		}
		o.sums = append(o.sums, s)
		return nil
	})
	platforms := flag.String("platforms", "linux/amd64 linux/arm64 darwin/arm64 windows/amd64", "OS/ARCH pairs, separated by spaces or commas")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mkrelease -out DIR -version V -revision R -epoch N [flags] FILE...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	o.platforms = strings.FieldsFunc(*platforms, func(r rune) bool { return r == ' ' || r == ',' })
	o.files = flag.Args()
	if err := o.run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkrelease:", err)
		os.Exit(1)
	}
}

type options struct {
	out, name, pkg, version, revision, buildUser string
	epoch                                        int64
	platforms, files, sums                       []string
}

func (o *options) run() error {
	switch {
	case o.out == "":
		return errors.New("-out is required")
	case o.version == "" || strings.ContainsAny(o.version, "/\\ \t"):
		return fmt.Errorf("-version %q: want a version such as 0.1.0", o.version)
	case o.revision == "":
		return errors.New("-revision is required")
	case o.epoch < 0:
		return errors.New("-epoch (SOURCE_DATE_EPOCH) is required")
	case len(o.platforms) == 0:
		return errors.New("no -platforms")
	}
	for _, f := range o.files {
		if filepath.IsAbs(f) || !filepath.IsLocal(f) {
			return fmt.Errorf("%s: files are given relative to the module root, inside it", f)
		}
	}
	mtime := time.Unix(o.epoch, 0).UTC()

	work, err := os.MkdirTemp("", "mkrelease-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}

	var archives []string
	for _, p := range o.platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok || goos == "" || goarch == "" {
			return fmt.Errorf("platform %q: want OS/ARCH", p)
		}
		bin := o.name
		if goos == "windows" {
			bin += ".exe"
		}
		binPath := filepath.Join(work, goos+"-"+goarch, bin)
		if err := o.build(goos, goarch, binPath, mtime); err != nil {
			return err
		}
		base := fmt.Sprintf("%s-%s.%s-%s", o.name, o.version, goos, goarch)
		entries, err := o.entries(base, bin, binPath)
		if err != nil {
			return err
		}
		archive := base + ".tar.gz"
		write := writeTarGz
		if goos == "windows" {
			archive, write = base+".zip", writeZip
		}
		if err := writeFile(filepath.Join(o.out, archive), func(w io.Writer) error { return write(w, entries, mtime) }); err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		fmt.Printf(">> %s\n", filepath.Join(o.out, archive))
		archives = append(archives, archive)
	}
	return writeSums(o.out, append(archives, o.sums...))
}

// build cross-compiles the main package for one platform.
func (o *options) build(goos, goarch, out string, mtime time.Time) error {
	ldflags := strings.Join([]string{
		"-s", "-w",
		"-X", versionPkg + ".Version=" + o.version,
		"-X", versionPkg + ".Revision=" + o.revision,
		"-X", versionPkg + ".BuildUser=" + o.buildUser,
		"-X", versionPkg + ".BuildDate=" + mtime.Format(buildDateLayout),
		// The branch is left out: it names a local ref, not the commit, and
		// two checkouts of one commit on different branches must build the
		// same bytes.
	}, " ")
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, o.pkg}
	cmd := exec.Command("go", args...)
	cmd.Env = buildEnv(goos, goarch)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	fmt.Printf(">> GOOS=%s GOARCH=%s CGO_ENABLED=0 go %s\n", goos, goarch, strings.Replace(strings.Join(args, " "), ldflags, "'"+ldflags+"'", 1))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s/%s: %w", goos, goarch, err)
	}
	return nil
}

// buildEnv is this process's environment with the Go settings that would
// change the binary's bytes fixed, and GOEXPERIMENT dropped: a release must
// not depend on what the builder's shell happens to say. GOFLAGS is set, not
// removed, so that a GOFLAGS from `go env -w` does not apply either.
func buildEnv(goos, goarch string) []string {
	fixed := map[string]string{
		"GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0",
		"GOFLAGS": "-mod=readonly", "GOWORK": "off",
		// The first levels of each architecture, which Go also defaults to.
		"GOAMD64": "v1", "GOARM64": "v8.0",
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := fixed[k]; !ok && k != "GOEXPERIMENT" {
			env = append(env, kv)
		}
	}
	for k, v := range fixed {
		env = append(env, k+"="+v)
	}
	return env
}

// entry is one member of an archive: a directory (name ending in "/") or a
// file read from src.
type entry struct {
	name string
	mode int64
	src  string
}

// entries lists an archive's members, sorted by name: the top-level
// directory, the binary and the files, with every directory they sit in.
func (o *options) entries(base, bin, binPath string) ([]entry, error) {
	es := []entry{{name: base + "/", mode: 0o755}, {name: base + "/" + bin, mode: 0o755, src: binPath}}
	dirs := map[string]bool{}
	for _, f := range o.files {
		info, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", f)
		}
		rel := filepath.ToSlash(f)
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				es = append(es, entry{name: base + "/" + d + "/", mode: 0o755})
			}
		}
		es = append(es, entry{name: base + "/" + rel, mode: 0o644, src: f})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(es); i++ {
		if es[i].name == es[i-1].name {
			return nil, fmt.Errorf("%s is in the archive twice", es[i].name)
		}
	}
	return es, nil
}

func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	// A zero gzip header: no file name, no time, "unknown" OS.
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, ModTime: mtime, Typeflag: tar.TypeDir}
		var body []byte
		if e.src != "" {
			if body, err = os.ReadFile(e.src); err != nil {
				return err
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, e := range entries {
		// Modified in UTC: zip's MS-DOS time fields have no zone, and
		// archive/zip writes them in Modified's location.
		hdr := &zip.FileHeader{Name: e.name, Modified: mtime, Method: zip.Store}
		mode := os.FileMode(e.mode)
		if e.src == "" {
			mode |= os.ModeDir
		} else {
			hdr.Method = zip.Deflate
		}
		hdr.SetMode(mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if e.src == "" {
			continue
		}
		body, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		if _, err := fw.Write(body); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeSums writes sha256sums.txt in sha256sum's format, which
// `sha256sum -c sha256sums.txt` checks.
func writeSums(dir string, archives []string) error {
	slices.Sort(archives)
	var b bytes.Buffer
	for _, a := range archives {
		data, err := os.ReadFile(filepath.Join(dir, a))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), a)
	}
	return writeFile(filepath.Join(dir, "sha256sums.txt"), func(w io.Writer) error {
		_, err := w.Write(b.Bytes())
		return err
	})
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
