package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

// imageTestEnv turns TestImage on. It builds the image with podman, so
// `make test-image` (and .ci/run) run it, `make test` does not.
const imageTestEnv = "VOCODE_TEST_IMAGE"

// imageBasesEnv says where the base images come from: "auto" (the default)
// pulls them and builds stand-ins for those that cannot be pulled, "pull"
// fails instead, "standin" builds stand-ins without trying the registries.
const imageBasesEnv = "VOCODE_TEST_IMAGE_BASES"

// imageCacheEnv set to "cold" leaves the build's cache mounts empty, as on a
// machine whose Go has built nothing yet.
const imageCacheEnv = "VOCODE_TEST_IMAGE_CACHE"

const (
	imageName     = "localhost/vocode_exporter:image-test"
	imageVersion  = "9.8.7-image-test"
	imageRevision = "0123456789abcdef0123456789abcdef01234567"
	imageDate     = "20260102-03:04:05"
	nonrootID     = 65532
	maxImageBytes = 25 << 20
	stopLimit     = 5 * time.Second
)

// engine runs podman and buildah on storage, configuration and temporary
// directories of its own under root, so that the host's container setup
// (/etc/containers, /var/lib/containers/storage) is neither read nor changed.
type engine struct {
	root string
	env  []string
}

// hostPaths are where podman 4.3 and buildah 1.28 write whatever their
// configuration says: a blob-info cache under /var/lib/containers/cache, and
// /run/containers/networks. The test removes those it created.
var hostPaths = []string{"/var/lib/containers", "/var/lib/containers/cache", "/run/containers", "/run/containers/networks"}

func newEngine(t *testing.T) *engine {
	t.Helper()
	root, err := os.MkdirTemp("", "vocode-image-test-")
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{root: root}
	var created []string
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			created = append(created, p)
		}
	}
	t.Cleanup(func() { e.teardown(t, created) })

	for _, d := range []string{"tmp", "storage", "run"} {
		if err := os.MkdirAll(e.path(d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"storage.conf": fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n",
			e.path("storage"), e.path("run")),
		// runc, not crun: Debian 12's crun 1.8.1 refuses the hybrid cgroup
		// v1+v2 layout even with cgroups disabled. The ulimits: without
		// CAP_SYS_RESOURCE podman's defaults fail to set.
		"containers.conf": fmt.Sprintf(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
static_dir = %q
volume_path = %q

[network]
network_config_dir = %q
`, e.path("events.log"), e.path("libpod"), e.path("storage", "libpod"), e.path("storage", "volumes"), e.path("networks")),
		"registries.conf": "unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"permissive\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(e.path(name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.env = append(os.Environ(),
		"CONTAINERS_CONF="+e.path("containers.conf"),
		"CONTAINERS_STORAGE_CONF="+e.path("storage.conf"),
		"CONTAINERS_REGISTRIES_CONF="+e.path("registries.conf"),
		"TMPDIR="+e.path("tmp"),
	)
	return e
}

func (e *engine) path(elem ...string) string {
	return filepath.Join(append([]string{e.root}, elem...)...)
}

// run runs an engine command and returns its standard output; a failure
// ends the test with the command's standard error.
func (e *engine) run(t *testing.T, limit time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := e.try(limit, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *engine) try(limit time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, lastLines(stderr.String(), 40))
	}
	return stdout.String(), nil
}

// teardown removes every container and image, unmounts what the storage
// left mounted under the root, and removes the root and the host
// directories that the run created.
func (e *engine) teardown(t *testing.T, created []string) {
	if _, err := e.try(time.Minute, "podman", "rm", "--all", "--force", "--time", "0"); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	if _, err := e.try(time.Minute, "buildah", "rm", "--all"); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	if _, err := e.try(2*time.Minute, "podman", "system", "reset", "--force"); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	mounts, err := mountsUnder(e.root)
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Errorf("cleanup: umount %s: %v", m, err)
		}
	}
	if err := os.RemoveAll(e.root); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, p := range slices.Backward(created) {
		if _, err := os.Lstat(p); err == nil {
			t.Logf("cleanup: removing %s, which podman or buildah created", p)
			if err := os.RemoveAll(p); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	}
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var found []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		// Field 5 is the mount point, with spaces and the like octal-escaped;
		// the roots made here have none.
		if mp := f[4]; mp == dir || strings.HasPrefix(mp, dir+"/") {
			found = append(found, mp)
		}
	}
	slices.SortFunc(found, func(a, b string) int { return len(b) - len(a) })
	return found, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// TestImage builds the repository's unchanged Dockerfile with podman, through
// `make image`, and runs the image as its users are told to: hardened, with
// the key in a mounted file, against the fake API.
func TestImage(t *testing.T) {
	if os.Getenv(imageTestEnv) != "1" {
		t.Skipf("builds and runs the container image with podman; set %s=1 (make test-image)", imageTestEnv)
	}
	if os.Getuid() != 0 {
		t.Fatal("the image test runs podman as root, on storage of its own: run it as root")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Fatalf("the image test builds linux/amd64 stand-ins from this machine's Go; it runs on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	for _, tool := range []string{"podman", "buildah", "runc", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%v (make image-tools installs Debian's podman, buildah, runc and busybox-static)", err)
		}
	}

	e := newEngine(t)
	bases, standIns := e.baseImages(t)
	if slices.Contains(standIns, distrolessNonroot) {
		// Said before the build and at the end, where a reader of the
		// output looks for what the run proved.
		t.Cleanup(func() { t.Log(standInCaveat) })
		t.Log(standInCaveat)
	}
	if os.Getenv(imageCacheEnv) != "cold" {
		e.seedCacheMounts(t)
	}

	start := time.Now()
	build := exec.Command("make", "-C", repoRoot(t), "image",
		"CONTAINER_ENGINE=podman", "IMAGE="+imageName,
		"VERSION="+imageVersion, "REVISION="+imageRevision, "BUILD_DATE="+imageDate,
		// Host networking: a bridge would add iptables chains to the host.
		"IMAGE_BUILD_FLAGS=--pull=never --platform=linux/amd64 --network=host")
	build.Env = e.env
	out, err := runLimited(build, 15*time.Minute)
	// Each line stamped with the seconds since the start: where the time went.
	logFile := filepath.Join(t.ArtifactDir(), "make-image.log")
	if werr := os.WriteFile(logFile, []byte(bases+"\n"+out), 0o644); werr != nil {
		t.Error(werr)
	}
	if err != nil {
		t.Fatalf("make image: %v\n%s", err, lastLines(out, 60))
	}
	t.Logf("make image (podman, %s): %v; its output is in %s", bases, time.Since(start).Round(time.Second), logFile)

	t.Run("inspect", func(t *testing.T) { checkImageConfig(t, e) })
	t.Run("filesystem", func(t *testing.T) { checkImageFiles(t, e) })
	t.Run("version", func(t *testing.T) {
		cmd := exec.Command("podman", "run", "--rm", "--network=host", imageName, "--version")
		cmd.Env = e.env
		out, err := runLimited(cmd, time.Minute)
		if err != nil {
			t.Fatalf("--version: %v\n%s", err, out)
		}
		want := fmt.Sprintf("version %s (branch: ", imageVersion)
		if !strings.Contains(out, want) || !strings.Contains(out, "revision: "+imageRevision+")") {
			t.Errorf("--version printed\n%s\nwant the version %s and revision %s passed to make image", out, imageVersion, imageRevision)
		}
	})
	t.Run("hardened", func(t *testing.T) { runHardened(t, e) })
}

// seedCacheMounts fills the Dockerfile's cache mounts (the Go module and
// build caches) with hard links to this machine's, so that what its Go has
// already fetched and compiled the same way (make test-release runs the
// Dockerfile's go build line on the host) is not fetched and compiled again
// in the container: several minutes on a busy 2-core machine. Buildah 1.28
// keeps a mount's cache in $TMPDIR/buildah-cache/<target>; where another
// version keeps it elsewhere, the build is only slower. Go writes new cache
// entries to new files, so the links leave the host's caches as they are.
func (e *engine) seedCacheMounts(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	modcache, gocache, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	for _, m := range []struct{ from, target string }{
		{modcache, "/go/pkg/mod"},
		{gocache, "/root/.cache/go-build"},
	} {
		dst := e.path("tmp", "buildah-cache", filepath.FromSlash(m.target[1:]))
		if _, err := os.Stat(m.from); err != nil {
			t.Logf("cache mount %s starts empty: %v", m.target, err)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if out, err := exec.Command("cp", "-al", m.from, dst).CombinedOutput(); err != nil {
			// Another file system: a copy would cost what it saves.
			t.Logf("cache mount %s starts empty: cp -al: %v\n%s", m.target, err, lastLines(string(out), 5))
			_ = os.RemoveAll(dst)
			continue
		}
		// Go rewrites trim.txt in place, which would write through the link.
		_ = os.Remove(filepath.Join(dst, "trim.txt"))
		t.Logf("cache mount %s: hard links to %s (%v)", m.target, m.from, time.Since(start).Round(time.Millisecond))
	}
}

// runLimited runs cmd, killed after limit, and returns its combined output,
// each line stamped with the seconds since the start.
func runLimited(cmd *exec.Cmd, limit time.Duration) (string, error) {
	out := &stampWriter{start: time.Now(), atLineStart: true}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		waitErr := <-done // killed: its error only says so
		return out.String(), fmt.Errorf("not done after %v (%w)", limit, waitErr)
	}
}

// stampWriter prefixes each line with the seconds since start; exec's
// copying goroutines write to it one at a time.
type stampWriter struct {
	mu          sync.Mutex
	buf         bytes.Buffer
	start       time.Time
	atLineStart bool
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range p {
		if w.atLineStart {
			fmt.Fprintf(&w.buf, "[%6.1fs] ", time.Since(w.start).Seconds())
		}
		w.buf.WriteByte(c)
		w.atLineStart = c == '\n'
	}
	return len(p), nil
}

func (w *stampWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// distrolessNonroot is the final stage's base, the one image whose files
// the image checks read; TestDockerfileFinalStage checks that the
// Dockerfile names it, so that its stand-in replaces what the Dockerfile
// builds on.
const distrolessNonroot = "gcr.io/distroless/static-debian12:nonroot"

// standInCaveat is what a run with the stand-in for distrolessNonroot
// proves of the image's files, and what not.
const standInCaveat = "OFFLINE: " + distrolessNonroot + " is a stand-in that this test laid down itself " +
	"(no registry answered, or " + imageBasesEnv + "=standin). The checks of " + caFile + ", /usr/share/zoneinfo " +
	"and the 65532 user in the image find files this test wrote, not the real image's; they show that the " +
	"Dockerfile builds on and keeps what its base provides. That the final stage's base is " + distrolessNonroot +
	" is checked from the Dockerfile's text (TestDockerfileFinalStage)."

// baseImages makes the Dockerfile's FROM images available in the engine's
// storage, pulled or as stand-ins: it returns a summary saying which, and
// the stand-ins' names.
func (e *engine) baseImages(t *testing.T) (summary string, standIns []string) {
	t.Helper()
	df := loadDockerfile(t, nil)
	stageNames := map[string]bool{}
	var used []string
	for _, s := range df.stages {
		if !stageNames[strings.ToLower(s.base)] && !slices.Contains(used, s.base) {
			used = append(used, s.base)
		}
		stageNames[strings.ToLower(s.Name)] = true
	}
	mode := cmpOr(os.Getenv(imageBasesEnv), "auto")
	var kinds []string
	for _, base := range used {
		ref := qualify(base)
		if mode != "standin" {
			_, err := e.try(2*time.Minute, "podman", "pull", "--quiet", "--platform=linux/amd64", ref)
			if err == nil {
				kinds = append(kinds, ref+" pulled")
				continue
			}
			if mode == "pull" {
				t.Fatalf("%s=pull: %v", imageBasesEnv, err)
			}
			t.Logf("cannot pull %s, building a stand-in: %v", ref, firstLine(err.Error()))
		}
		start := time.Now()
		e.standIn(t, ref)
		kinds = append(kinds, ref+" stand-in")
		standIns = append(standIns, ref)
		t.Logf("stand-in %s built in %v", ref, time.Since(start).Round(time.Second))
	}
	return "base images: " + strings.Join(kinds, ", "), standIns
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// qualify spells an image name as the registries.conf of the engine
// resolves it: short names on Docker Hub.
func qualify(name string) string {
	first, _, hasSlash := strings.Cut(name, "/")
	switch {
	case !hasSlash:
		return "docker.io/library/" + name
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		return "docker.io/" + name
	}
	return name
}

// standIn builds a local image named ref holding what the Dockerfile's build
// uses of the real one, with the real one's user, workdir and environment.
func (e *engine) standIn(t *testing.T, ref string) {
	t.Helper()
	repo, tag, _ := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
	var fill func(t *testing.T, dir string) []string
	switch {
	case repo == "golang":
		fill = fillGolang(tag)
	case ref == distrolessNonroot:
		fill = fillDistrolessNonroot
	default:
		t.Fatalf("the Dockerfile's base image %s has no stand-in here: add one to image_test.go", ref)
	}
	ctr := strings.TrimSpace(e.run(t, time.Minute, "buildah", "from", "scratch"))
	dir := strings.TrimSpace(e.run(t, time.Minute, "buildah", "mount", ctr))
	config := fill(t, dir)
	e.run(t, time.Minute, "buildah", "umount", ctr)
	e.run(t, time.Minute, "buildah", append(append([]string{"config"}, config...), ctr)...)
	e.run(t, 5*time.Minute, "buildah", "commit", "--quiet", "--rm", ctr, ref)
}

type fileSpec struct {
	path     string
	mode     os.FileMode
	uid, gid int
	text     string // a file; or, with from, copied from the host
	from     string
	dir      bool
}

func lay(t *testing.T, root string, specs []fileSpec) {
	t.Helper()
	for _, f := range specs {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case f.from != "":
			// cp -a keeps the tree's links and modes (GOROOT, zoneinfo).
			if out, err := exec.Command("cp", "-a", f.from, p).CombinedOutput(); err != nil {
				t.Fatalf("cp -a %s %s: %v\n%s", f.from, p, err, out)
			}
			if f.mode == 0 {
				continue
			}
		case f.dir:
			if err := os.Mkdir(p, f.mode); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(f.text), f.mode); err != nil {
				t.Fatal(err)
			}
		}
		// Mkdir and WriteFile apply the umask; the images' modes are exact.
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, f.uid, f.gid); err != nil {
			t.Fatal(err)
		}
	}
}

// caFile is where both real images keep their CA certificates; the
// stand-ins hold this machine's there.
const caFile = "/etc/ssl/certs/ca-certificates.crt"

// fillGolang stands in for the official golang image: this machine's Go
// toolchain at /usr/local/go (its go.env names the module proxy), a /bin/sh
// from busybox-static for RUN, CA certificates to reach the proxy.
func fillGolang(tag string) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		t.Helper()
		out, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
		if err != nil {
			t.Fatalf("go env: %v", err)
		}
		goroot, goversion, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if v := strings.TrimPrefix(goversion, "go"); v != tag && !strings.HasPrefix(v, tag+".") {
			t.Fatalf("the stand-in for golang:%s would hold this machine's %s", tag, goversion)
		}
		requireStatic(t, "/bin/busybox")
		lay(t, dir, []fileSpec{
			{path: "usr/local/go", from: goroot},
			{path: "bin/sh", from: "/bin/busybox", mode: 0o755},
			{path: caFile[1:], from: caFile, mode: 0o644},
			{path: "etc/passwd", mode: 0o644, text: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"},
			{path: "etc/group", mode: 0o644, text: "root:x:0:\nnogroup:x:65534:\n"},
			{path: "etc/nsswitch.conf", mode: 0o644, text: "hosts: files dns\n"},
			{path: "root", dir: true, mode: 0o700},
			{path: "tmp", dir: true, mode: 0o777 | os.ModeSticky},
			{path: "go", dir: true, mode: 0o777 | os.ModeSticky},
			{path: "go/bin", dir: true, mode: 0o777 | os.ModeSticky},
			{path: "go/src", dir: true, mode: 0o777 | os.ModeSticky},
		})
		return []string{
			"--env", "PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"--env", "GOLANG_VERSION=" + strings.TrimPrefix(goversion, "go"),
			"--env", "GOTOOLCHAIN=local",
			"--env", "GOPATH=/go",
			"--workingdir", "/go",
		}
	}
}

// fillDistrolessNonroot stands in for distroless static's nonroot variant:
// CA certificates, zoneinfo, passwd and group with nonroot 65532, /tmp, and
// no shell.
func fillDistrolessNonroot(t *testing.T, dir string) []string {
	t.Helper()
	lay(t, dir, []fileSpec{
		{path: caFile[1:], from: caFile, mode: 0o644},
		{path: "usr/share/zoneinfo", from: "/usr/share/zoneinfo"},
		{path: "etc/passwd", mode: 0o644, text: "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"},
		{path: "etc/group", mode: 0o644, text: "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"},
		{path: "etc/nsswitch.conf", mode: 0o644, text: "hosts: files dns\n"},
		{path: "root", dir: true, mode: 0o700},
		{path: "home/nonroot", dir: true, mode: 0o700, uid: nonrootID, gid: nonrootID},
		{path: "tmp", dir: true, mode: 0o777 | os.ModeSticky},
	})
	return []string{
		"--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--env", "SSL_CERT_FILE=" + caFile,
		"--workingdir", "/home/nonroot",
		"--user", fmt.Sprint(nonrootID),
	}
}

// requireStatic fails unless file is a statically linked ELF program: the
// stand-in's /bin/sh gets no libraries.
func requireStatic(t *testing.T, file string) {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatalf("%v (Debian's busybox-static provides it)", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked: install Debian's busybox-static", file)
		}
	}
}

type imageInspect struct {
	Size   int64
	Config struct {
		User         string
		ExposedPorts map[string]struct{}
		Entrypoint   []string
		Cmd          []string
		Env          []string
		Labels       map[string]string
	}
}

func checkImageConfig(t *testing.T, e *engine) {
	var images []imageInspect
	if err := json.Unmarshal([]byte(e.run(t, time.Minute, "podman", "image", "inspect", imageName)), &images); err != nil || len(images) != 1 {
		t.Fatalf("podman image inspect: %d images, %v", len(images), err)
	}
	img := images[0]
	cfg := img.Config
	if cfg.User != fmt.Sprintf("%d:%d", nonrootID, nonrootID) {
		t.Errorf("user %q, want %d:%d", cfg.User, nonrootID, nonrootID)
	}
	if _, ok := cfg.ExposedPorts[defaultPort+"/tcp"]; !ok || len(cfg.ExposedPorts) != 1 {
		t.Errorf("exposed ports %v, want only %s/tcp", cfg.ExposedPorts, defaultPort)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/bin/vocode_exporter"}) || len(cfg.Cmd) != 0 {
		t.Errorf("entrypoint %q and cmd %q, want [/bin/vocode_exporter] alone", cfg.Entrypoint, cfg.Cmd)
	}
	for key, want := range map[string]string{
		"org.opencontainers.image.title":    "vocode_exporter",
		"org.opencontainers.image.version":  imageVersion,
		"org.opencontainers.image.revision": imageRevision,
		"org.opencontainers.image.created":  imageDate,
		"org.opencontainers.image.source":   "https://github.com/vocode-exporter/vocode_exporter",
		"org.opencontainers.image.url":      "https://github.com/vocode-exporter/vocode_exporter",
	} {
		if got := cfg.Labels[key]; got != want {
			t.Errorf("label %s=%q, want %q", key, got, want)
		}
	}
	if cfg.Labels["org.opencontainers.image.description"] == "" {
		t.Error("no org.opencontainers.image.description label")
	}
	if img.Size <= 0 || img.Size >= maxImageBytes {
		t.Errorf("image size %d bytes, want under %d", img.Size, maxImageBytes)
	}
	t.Logf("image size %.1f MB", float64(img.Size)/1e6)
}

// checkImageFiles reads the image's file system from `podman export`: the
// binary and what it needs are there, and nothing that runs commands.
func checkImageFiles(t *testing.T, e *engine) {
	ctr := strings.TrimSpace(e.run(t, time.Minute, "podman", "create", imageName))
	defer e.try(time.Minute, "podman", "rm", "--force", ctr) //nolint:errcheck // teardown removes it too
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", "export", ctr)
	cmd.Env = e.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	files := map[string]*tar.Header{}
	var passwd string
	tr := tar.NewReader(stdout)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("podman export: %v", err)
		}
		name := path.Clean("/" + h.Name)
		files[name] = h
		if name == "/etc/passwd" {
			b, _ := io.ReadAll(tr)
			passwd = string(b)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("podman export: %v\n%s", err, stderr.String())
	}

	shells := []string{"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox", "toybox"}
	for name, h := range files {
		if slices.Contains(shells, path.Base(name)) {
			t.Errorf("the image holds %s (%c): it should have no shell", name, h.Typeflag)
		}
	}
	if h := files["/bin/vocode_exporter"]; h == nil || h.Typeflag != tar.TypeReg || h.Mode&0o001 == 0 {
		t.Errorf("/bin/vocode_exporter is not a regular file anyone may run: %+v", h)
	}
	for _, want := range []string{"/LICENSE", caFile, "/usr/share/zoneinfo/UTC", "/etc/passwd"} {
		if files[want] == nil {
			t.Errorf("the image lacks %s", want)
		}
	}
	if !strings.Contains(passwd, fmt.Sprintf(":%d:%d:", nonrootID, nonrootID)) {
		t.Errorf("/etc/passwd names no user %d:\n%s", nonrootID, passwd)
	}
}

// runHardened runs the image read-only, without capabilities or privilege
// gains, the key in a mounted file, against the fake API; scrapes it; and
// stops it with SIGTERM.
func runHardened(t *testing.T, e *engine) {
	const twilio, openai = 4, 2
	key := fmt.Sprintf("image-test-key-%d", time.Now().UnixNano())
	fakeAddr := startFakeAPI(t, e, key, twilio, openai)

	// Owned by root and readable by the image's group, as the Helm chart
	// mounts its Secret (mode 0440, fsGroup 65532).
	keyFile := e.path("api-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(keyFile, 0, nonrootID); err != nil {
		t.Fatal(err)
	}

	listen := e2e.FreeAddr(t)
	const name = "vocode-exporter-image-test"
	e.run(t, time.Minute, "podman", "run", "--detach", "--name", name,
		"--network=host", "--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges",
		"--volume", keyFile+":/etc/vocode-exporter/api-key:ro",
		imageName,
		"--vocode.url=http://"+fakeAddr,
		"--vocode.api-key-file=/etc/vocode-exporter/api-key",
		"--web.listen-address="+listen)
	logs := func() string {
		out, _ := e.try(time.Minute, "podman", "logs", name)
		return out
	}

	var pid int
	state := e.run(t, time.Minute, "podman", "inspect", "--format", "{{.State.Pid}}", name)
	if _, err := fmt.Sscan(state, &pid); err != nil || pid <= 0 {
		t.Fatalf("container pid %q: %v\n%s", state, err, logs())
	}
	checkProcess(t, pid, key)

	wantLines := []string{
		`vocode_up{account="default"} 1`,
		fmt.Sprintf(`vocode_account_connections{account="default",type="twilio"} %d`, twilio),
		fmt.Sprintf(`vocode_account_connections{account="default",type="openai"} %d`, openai),
	}
	body, err := scrapeUntil(t, "http://"+listen+"/metrics", wantLines[0], 30*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs())
	}
	for _, want := range wantLines {
		if !hasLine(body, want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
	if strings.Contains(body, key) || strings.Contains(logs(), key) {
		t.Error("the API key shows in the metrics or the container's logs")
	}

	start := time.Now()
	e.run(t, time.Minute, "podman", "kill", "--signal", "TERM", name)
	out, err := e.try(stopLimit, "podman", "wait", name)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("not stopped %v after SIGTERM: %v\n%s", stopLimit, err, logs())
	}
	if code := strings.TrimSpace(out); code != "0" {
		t.Errorf("exit code %s after SIGTERM, want 0\n%s", code, logs())
	}
	t.Logf("stopped %v after SIGTERM", took.Round(time.Millisecond))
}

// checkProcess reads the container's process from the host's /proc: the
// hardening flags took effect and the key is not on its command line.
func checkProcess(t *testing.T, pid int, key string) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		fields[k] = strings.Join(strings.Fields(v), " ")
	}
	id := fmt.Sprint(nonrootID)
	for k, want := range map[string]string{
		"Uid":        strings.Repeat(id+" ", 3) + id,
		"Gid":        strings.Repeat(id+" ", 3) + id,
		"CapEff":     "0000000000000000",
		"CapPrm":     "0000000000000000",
		"CapBnd":     "0000000000000000",
		"NoNewPrivs": "1",
	} {
		if fields[k] != want {
			t.Errorf("container process %s: %q, want %q", k, fields[k], want)
		}
	}
	mountinfo, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	rootRO := false
	for line := range strings.Lines(string(mountinfo)) {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == "/" {
			rootRO = slices.Contains(strings.Split(f[5], ","), "ro")
		}
	}
	if !rootRO {
		t.Error("the container's root file system is not mounted read-only")
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cmdline, []byte(key)) {
		t.Error("the API key is on the container's command line")
	}
}

// startFakeAPI builds and starts cmd/vocode-fake-api on a loopback port,
// stopped when the test ends.
func startFakeAPI(t *testing.T, e *engine, key string, twilio, openai int) string {
	t.Helper()
	bin := e.path("vocode-fake-api")
	build := exec.Command("go", "build", "-o", bin, "./cmd/vocode-fake-api")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/vocode-fake-api: %v\n%s", err, out)
	}
	addr := e2e.FreeAddr(t)
	fake := exec.Command(bin, "--listen", addr, "--api-key", key,
		"--twilio", fmt.Sprint(twilio), "--openai", fmt.Sprint(openai))
	stdout, err := fake.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = fake.Process.Signal(syscall.SIGTERM)
		_ = fake.Wait()
	})
	// It prints one line once it listens.
	ready := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(stdout).ReadString('\n')
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("fake API: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the fake API did not start within 30s")
	}
	return addr
}

// scrapeUntil scrapes url until the body has the line want, for at most limit.
func scrapeUntil(t *testing.T, url, want string, limit time.Duration) (string, error) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("status %d", resp.StatusCode)
			if rerr == nil && resp.StatusCode == http.StatusOK && hasLine(string(b), want) {
				return string(b), nil
			}
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	return "", fmt.Errorf("no %q at %s within %v (last: %s)", want, url, limit, last)
}

func hasLine(body, line string) bool {
	for l := range strings.Lines(body) {
		if strings.TrimRight(l, "\n") == line {
			return true
		}
	}
	return false
}
