package release

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// releasePlatforms are the platforms `make release` must ship, and what
// their binaries' headers must say.
var releasePlatforms = []struct {
	goos, goarch string
	check        func(t *testing.T, path string)
}{
	{"linux", "amd64", elfCheck(elf.EM_X86_64)},
	{"linux", "arm64", elfCheck(elf.EM_AARCH64)},
	{"darwin", "arm64", machoCheck(macho.CpuArm64)},
	{"windows", "amd64", peCheck(pe.IMAGE_FILE_MACHINE_AMD64)},
}

// releaseFiles are shipped beside the binary in every archive, at these
// paths below its top-level directory.
var releaseFiles = []string{"LICENSE", "README.md", "alerts/vocode.rules.yml", "dashboards/vocode.json"}

// releaseEnvDrop are variables that would override what the Makefile derives
// for a release (make reads the environment), and those a calling make
// leaves for its children.
var releaseEnvDrop = []string{
	"VERSION", "REVISION", "BRANCH", "BUILD_USER", "BUILD_DATE", "SOURCE_DATE_EPOCH", "DIST",
	"RELEASE_PLATFORMS", "GOOS", "GOARCH", "GOFLAGS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
}

// TestReleaseArchives runs `make release` twice and checks that both runs
// give the same bytes, and what those bytes hold.
//
// The first run is in the repository, so that the Makefile derives the
// revision and SOURCE_DATE_EPOCH from git itself. The second runs on a copy
// of the tree at another path, with another time zone and umask, and with the
// revision and commit time passed in (the copy is no git checkout): a build
// that depended on where the source lies (no -trimpath), on the clock or the
// zone (file times), or on the umask (modes) would differ.
func TestReleaseArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds the exporter four times; skipped in -short mode")
	}
	root := repoRoot(t)
	version := strings.TrimSpace(readRepoFile(t, "VERSION"))
	revision := gitOutput(t, root, "rev-parse", "HEAD")
	epoch, err := strconv.ParseInt(gitOutput(t, root, "log", "-1", "--format=%ct"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	commitTime := time.Unix(epoch, 0).UTC()

	dist1 := filepath.Join(t.TempDir(), "dist")
	runMake(t, root, "022", "UTC", "release", "DIST="+dist1)
	copyRoot := filepath.Join(t.TempDir(), "elsewhere", "vocode_exporter")
	copyTrackedTree(t, root, copyRoot)
	dist2 := filepath.Join(t.TempDir(), "dist")
	runMake(t, copyRoot, "077", "Pacific/Chatham", "release", "DIST="+dist2,
		"REVISION="+revision, "SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch, 10))

	// The same files, byte for byte.
	chart := chartPackageName(version)
	want := []string{"sha256sums.txt", chart}
	for _, p := range releasePlatforms {
		want = append(want, archiveName(version, p.goos, p.goarch))
	}
	slices.Sort(want)
	for _, dir := range []string{dist1, dist2} {
		if got := dirNames(t, dir); !slices.Equal(got, want) {
			t.Fatalf("%s holds %q, want %q", dir, got, want)
		}
	}
	for _, name := range want {
		a, b := readFile(t, filepath.Join(dist1, name)), readFile(t, filepath.Join(dist2, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two release builds (%d and %d bytes)", name, len(a), len(b))
		}
	}

	checkSums(t, dist1, want)
	checkChartPackage(t, filepath.Join(dist1, chart), commitTime)

	for _, p := range releasePlatforms {
		name := archiveName(version, p.goos, p.goarch)
		t.Run(p.goos+"-"+p.goarch, func(t *testing.T) {
			members := readArchive(t, filepath.Join(dist1, name))
			base := strings.TrimSuffix(strings.TrimSuffix(name, ".tar.gz"), ".zip")
			bin := binaryName
			if p.goos == "windows" {
				bin += ".exe"
			}

			wantNames := []string{base + "/", base + "/" + bin}
			for _, f := range releaseFiles {
				if d := filepath.ToSlash(filepath.Dir(f)); d != "." && !slices.Contains(wantNames, base+"/"+d+"/") {
					wantNames = append(wantNames, base+"/"+d+"/")
				}
				wantNames = append(wantNames, base+"/"+f)
			}
			slices.Sort(wantNames)
			var gotNames []string
			for _, m := range members {
				gotNames = append(gotNames, m.name)
			}
			if !slices.Equal(gotNames, wantNames) {
				t.Fatalf("members %q, want %q (sorted)", gotNames, wantNames)
			}

			for _, m := range members {
				wantMode := os.FileMode(0o644)
				if m.dir || m.name == base+"/"+bin {
					wantMode = 0o755
				}
				if m.mode != wantMode {
					t.Errorf("%s: mode %v, want %v", m.name, m.mode, wantMode)
				}
				if !m.mtime.Equal(commitTime) {
					t.Errorf("%s: time %v, want the commit's %v", m.name, m.mtime.UTC(), commitTime)
				}
				if m.owner != "" {
					t.Errorf("%s: owner %s, want 0:0 without names", m.name, m.owner)
				}
			}
			for _, f := range releaseFiles {
				m := members[slices.Index(gotNames, base+"/"+f)]
				if !bytes.Equal(m.data, readFile(t, filepath.Join(root, f))) {
					t.Errorf("%s differs from the repository's %s", m.name, f)
				}
			}

			binPath := filepath.Join(t.TempDir(), bin)
			if err := os.WriteFile(binPath, members[slices.Index(gotNames, base+"/"+bin)].data, 0o755); err != nil {
				t.Fatal(err)
			}
			p.check(t, binPath)
			if p.goos == runtime.GOOS && p.goarch == runtime.GOARCH {
				checkReleaseVersion(t, binPath, version, revision, commitTime)
			} else if p.goos == "linux" && p.goarch == "amd64" {
				t.Logf("not running the %s/%s binary on %s/%s", p.goos, p.goarch, runtime.GOOS, runtime.GOARCH)
			}
		})
	}
}

// chartPackageName is the Helm chart's package, as `make chart` names it.
func chartPackageName(version string) string {
	return "vocode-exporter-" + version + ".tgz"
}

// checkChartPackage wants the chart's package to hold the chart of this
// version, every file with the commit's time and no owner.
func checkChartPackage(t *testing.T, path string, commitTime time.Time) {
	t.Helper()
	members := readTarGz(t, path)
	var names []string
	for _, m := range members {
		names = append(names, m.name)
		if !m.mtime.Equal(commitTime) || m.owner != "" || m.dir {
			t.Errorf("%s: %s: time %v, owner %q, directory %v; want a file of the commit's time %v, owned by 0:0", filepath.Base(path), m.name, m.mtime.UTC(), m.owner, m.dir, commitTime)
		}
	}
	for _, want := range []string{"vocode-exporter/Chart.yaml", "vocode-exporter/values.yaml", "vocode-exporter/values.schema.json", "vocode-exporter/templates/deployment.yaml"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s lacks %s (holds %q)", filepath.Base(path), want, names)
		}
	}
}

func archiveName(version, goos, goarch string) string {
	ext := ".tar.gz"
	if goos == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("%s-%s.%s-%s%s", binaryName, version, goos, goarch, ext)
}

// runMake runs make with the given umask and time zone, without the
// variables that would override the Makefile's own.
func runMake(t *testing.T, dir, umask, tz string, args ...string) {
	t.Helper()
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("make not on PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `umask "$0" && exec "$@"`, umask, makeBin, "-C", dir}, args...)...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(releaseEnvDrop, k) && k != "TZ" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TZ="+tz)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	t.Logf("make %s in %s (umask %s, TZ=%s): %v", strings.Join(args, " "), dir, umask, tz, time.Since(start).Round(time.Second))
}

func gitOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// copyTrackedTree copies the files git knows of (tracked, and new ones it
// does not ignore), as they are in the work tree, so that changes not yet
// committed are built too.
func copyTrackedTree(t *testing.T, src, dst string) {
	t.Helper()
	list := gitOutput(t, src, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for _, rel := range strings.Split(list, "\x00") {
		if rel == "" {
			continue
		}
		from := filepath.Join(src, filepath.FromSlash(rel))
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		to := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(from, to); err != nil {
			t.Fatal(err)
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	slices.Sort(names)
	return names
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSums reads sha256sums.txt as sha256sum writes it ("HEX  NAME"), wants
// a line for each archive and nothing else, and checks each sum; then has
// sha256sum itself check the file where it is installed.
func checkSums(t *testing.T, dir string, names []string) {
	t.Helper()
	sums := map[string]string{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, filepath.Join(dir, "sha256sums.txt"))))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if b, err := hex.DecodeString(sum); !ok || err != nil || len(b) != sha256.Size {
			t.Fatalf("sha256sums.txt: line %q is not \"<sha256 in hex>  <name>\"", sc.Text())
		}
		sums[name] = sum
		order = append(order, name)
	}
	var archives []string
	for _, n := range names {
		if n != "sha256sums.txt" {
			archives = append(archives, n)
		}
	}
	if !slices.Equal(order, archives) {
		t.Errorf("sha256sums.txt lists %q, want %q", order, archives)
	}
	for _, a := range archives {
		got := sha256.Sum256(readFile(t, filepath.Join(dir, a)))
		if hex.EncodeToString(got[:]) != sums[a] {
			t.Errorf("sha256sums.txt: %s is %s, the file's sum is %x", a, sums[a], got)
		}
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Logf("sha256sum not on PATH: not running sha256sum -c")
		return
	}
	cmd := exec.Command("sha256sum", "--strict", "-c", "sha256sums.txt")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c sha256sums.txt: %v\n%s", err, out)
	}
}

// member is an archive entry as the archive states it.
type member struct {
	name  string
	dir   bool
	mode  os.FileMode // permission bits
	mtime time.Time
	owner string // "" for uid and gid 0 without names
	data  []byte
}

func readArchive(t *testing.T, path string) []member {
	t.Helper()
	if strings.HasSuffix(path, ".zip") {
		return readZip(t, path)
	}
	return readTarGz(t, path)
}

func readTarGz(t *testing.T, path string) []member {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header names %q, time %v: want neither", path, zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var ms []member
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		m := member{name: h.Name, dir: h.Typeflag == tar.TypeDir, mode: os.FileMode(h.Mode), mtime: h.ModTime, data: data}
		if h.Typeflag != tar.TypeDir && h.Typeflag != tar.TypeReg {
			t.Errorf("%s: %s is of tar type %q, want a file or directory", path, h.Name, h.Typeflag)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			m.owner = fmt.Sprintf("%d(%s):%d(%s)", h.Uid, h.Uname, h.Gid, h.Gname)
		}
		ms = append(ms, m)
	}
	return ms
}

func readZip(t *testing.T, path string) []member {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var ms []member
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %s: %v", path, f.Name, err)
		}
		ms = append(ms, member{name: f.Name, dir: f.Mode().IsDir(), mode: f.Mode().Perm(), mtime: f.Modified, data: data})
	}
	return ms
}

func elfCheck(machine elf.Machine) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		t.Helper()
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("not an ELF file: %v", err)
		}
		defer f.Close()
		if f.Machine != machine || f.Class != elf.ELFCLASS64 {
			t.Errorf("ELF machine %v, class %v; want %v, %v", f.Machine, f.Class, machine, elf.ELFCLASS64)
		}
		checkStaticELF(t, path)
	}
}

func machoCheck(cpu macho.Cpu) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		t.Helper()
		f, err := macho.Open(path)
		if err != nil {
			t.Fatalf("not a Mach-O file: %v", err)
		}
		defer f.Close()
		if f.Cpu != cpu || f.Type != macho.TypeExec {
			t.Errorf("Mach-O CPU %v, type %v; want %v, an executable", f.Cpu, f.Type, cpu)
		}
	}
}

func peCheck(machine uint16) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		t.Helper()
		f, err := pe.Open(path)
		if err != nil {
			t.Fatalf("not a PE file: %v", err)
		}
		defer f.Close()
		if f.Machine != machine {
			t.Errorf("PE machine %#x, want %#x", f.Machine, machine)
		}
		if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 || f.Characteristics&pe.IMAGE_FILE_DLL != 0 {
			t.Errorf("PE characteristics %#x: want an executable image, not a DLL", f.Characteristics)
		}
		// A console program: run from a terminal or a service manager,
		// it must keep its standard output and error.
		if oh, ok := f.OptionalHeader.(*pe.OptionalHeader64); !ok || oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_CUI {
			t.Errorf("PE optional header %T: want a 64-bit console (CUI) program", f.OptionalHeader)
		}
	}
}

// checkReleaseVersion runs the binary's --version: the release's version,
// revision, build user and the commit's time as the build date.
func checkReleaseVersion(t *testing.T, bin, version, revision string, commitTime time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	for _, want := range []string{
		binaryName + ", version " + version + " (",
		"revision: " + revision + ")",
		"build user:       release\n",
		"build date:       " + commitTime.Format("20060102-15:04:05") + "\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--version lacks %q:\n%s", want, out)
		}
	}
}
