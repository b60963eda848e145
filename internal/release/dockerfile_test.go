package release

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

const (
	binaryName    = "vocode_exporter"
	defaultPort   = "10401"
	versionPkg    = "github.com/prometheus/common/version"
	entrypointBin = "/bin/" + binaryName
)

// testBuildArgs stand in for `docker build --build-arg ...` (as `make docker`
// passes them): values unlike any default, so that each one can be traced to
// where it must end up. VERSION keeps the Dockerfile's default, which must
// be the VERSION file's.
var testBuildArgs = map[string]string{
	"REVISION":   "0123456789abcdef-release-test",
	"BRANCH":     "release-test-branch",
	"BUILD_USER": "release-test-user",
	"BUILD_DATE": "20260102-03:04:05",
}

// copyFromBuilder returns the final stage's COPY --from=<stage> that brings
// the binary in, and the stage it copies from.
func copyFromBuilder(t *testing.T, df *dockerfile) (src, dst string, builder *stage) {
	t.Helper()
	copies, _ := commands[*instructions.CopyCommand](df.final())
	for _, c := range copies {
		if c.From == "" || len(c.SourcePaths) != 1 {
			continue
		}
		if st := df.stageByRef(c.From); st != nil {
			return c.SourcePaths[0], c.DestPath, st
		}
	}
	t.Fatalf("the final stage has no `COPY --from=<builder stage> <binary> <dest>`")
	return "", "", nil
}

func TestDockerfileFinalStage(t *testing.T) {
	withVersion := maps.Clone(testBuildArgs)
	withVersion["VERSION"] = "9.8.7-release-test"
	df := loadDockerfile(t, withVersion)
	if len(df.stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(df.stages))
	}
	final := df.final()

	// Base image: distroless static's nonroot variant, without a shell or
	// a package manager. It is also the image whose stand-in TestImage
	// lays down where no registry answers: that stand-in replaces this
	// base and no other.
	if got := qualify(final.base); got != distrolessNonroot {
		t.Errorf("%s: final stage FROM %s: want %s, the base the image test's stand-in replaces", lines(final.Location), final.base, distrolessNonroot)
	}

	// USER: numeric and non-zero, so that Kubernetes' runAsNonRoot can verify it.
	user, ok := last[*instructions.UserCommand](final)
	if !ok {
		t.Fatal("final stage has no USER: the image would run as root")
	}
	where := lines(user.Location())
	uidText, gidText, _ := strings.Cut(user.User, ":")
	uid, err := strconv.Atoi(uidText)
	if err != nil {
		t.Errorf("%s: USER %q: want a numeric uid (runAsNonRoot cannot check names)", where, user.User)
	} else if uid == 0 {
		t.Errorf("%s: USER %q runs as root", where, user.User)
	}
	if gidText != "" {
		if gid, err := strconv.Atoi(gidText); err != nil || gid == 0 {
			t.Errorf("%s: USER %q: want a numeric non-root group", where, user.User)
		}
	}

	// EXPOSE the default listen port.
	exposed := false
	exposes, _ := commands[*instructions.ExposeCommand](final)
	for _, e := range exposes {
		for _, p := range e.Ports {
			port, proto, _ := strings.Cut(p, "/")
			if port == defaultPort && (proto == "" || proto == "tcp") {
				exposed = true
			}
		}
	}
	if !exposed {
		t.Errorf("final stage does not EXPOSE %s/tcp", defaultPort)
	}

	// ENTRYPOINT: the binary, exec form (signals reach the exporter directly).
	ep, ok := last[*instructions.EntrypointCommand](final)
	if !ok {
		t.Fatal("final stage has no ENTRYPOINT")
	}
	if ep.PrependShell {
		t.Errorf("%s: ENTRYPOINT in shell form: a shell would stand between the exporter and its signals", lines(ep.Location()))
	}
	if len(ep.CmdLine) == 0 || ep.CmdLine[0] != entrypointBin {
		t.Errorf("%s: ENTRYPOINT %q: want [%q ...]", lines(ep.Location()), ep.CmdLine, entrypointBin)
	}
	if _, ok := last[*instructions.CmdCommand](final); ok {
		// A CMD would be appended to ENTRYPOINT; the exporter needs no args.
		t.Log("final stage has a CMD: make sure its arguments are meant as defaults")
	}

	// The binary copied from the builder is the one the entry point runs.
	_, dst, builder := copyFromBuilder(t, df)
	if dst != entrypointBin && path.Join(dst, binaryName) != entrypointBin {
		t.Errorf("COPY --from=%s puts the binary at %s, ENTRYPOINT runs %s", builder.Name, dst, entrypointBin)
	}

	// OCI image labels, the build's own ones filled from the build arguments.
	labels := map[string]string{}
	labelCmds, _ := commands[*instructions.LabelCommand](final)
	for _, l := range labelCmds {
		for _, kv := range l.Labels {
			labels[kv.Key] = kv.Value
		}
	}
	for _, k := range []string{"title", "description", "source", "version", "revision", "created"} {
		key := "org.opencontainers.image." + k
		if labels[key] == "" {
			t.Errorf("missing LABEL %s", key)
		}
	}
	for label, arg := range map[string]string{"version": "VERSION", "revision": "REVISION", "created": "BUILD_DATE"} {
		key := "org.opencontainers.image." + label
		if got := labels[key]; got != withVersion[arg] {
			t.Errorf("LABEL %s=%q with --build-arg %s=%s: want it from ARG %s", key, got, arg, withVersion[arg], arg)
		}
	}
}

func TestDockerfileVersionMatchesVersionFile(t *testing.T) {
	want := strings.TrimSpace(readRepoFile(t, "VERSION"))
	if want == "" {
		t.Fatal("VERSION file is empty")
	}
	df := loadDockerfile(t, nil)
	seen := false
	for _, st := range df.stages {
		if v, ok := st.args["VERSION"]; ok {
			seen = true
			if v != want {
				t.Errorf("stage %q: ARG VERSION=%s, VERSION file says %s", st.Name, v, want)
			}
		}
	}
	if !seen {
		t.Error("the Dockerfile declares no ARG VERSION with a default")
	}
}

func TestDockerignore(t *testing.T) {
	pm := loadDockerignore(t)
	for _, p := range []string{".git/HEAD", ".tools/bin/golangci-lint", binaryName, "examples/prometheus.yml", "dashboards/dashboardtest/go.mod", "collector/coverage.out"} {
		if !excluded(t, pm, p) {
			t.Errorf(".dockerignore keeps %s in the build context", p)
		}
	}
	// VERSION is embedded in the binary; LICENSE is copied into the image.
	for _, p := range []string{"go.mod", "go.sum", "main.go", "VERSION", "LICENSE", "collector/collector.go", "vocode/client.go"} {
		if excluded(t, pm, p) {
			t.Errorf(".dockerignore drops %s, which the build needs", p)
		}
	}
	for _, p := range []string{"dist/sha256sums.txt", "dist/vocode_exporter-0.1.0.linux-amd64.tar.gz", "CHANGELOG.md", "SECURITY.md"} {
		if !excluded(t, pm, p) {
			t.Errorf(".dockerignore keeps %s in the build context", p)
		}
	}
}

// buildLine is the builder stage's `go build`, ready to run outside Docker.
type buildLine struct {
	where  string
	env    map[string]string // the RUN's environment: ARG, ENV, then the line's own VAR=value
	argv   []string          // go build ...
	output string            // the -o argument as written
}

// errNoGlob keeps globbing out of the expansion, see extractBuild.
var errNoGlob = errors.New("unquoted glob patterns are not supported in the build line")

// extractBuild parses the RUN that holds `go build` as the builder's /bin/sh
// would and expands it with the ARG and ENV values the RUN sees. It must be
// one simple command, so that it can be run here as it is written.
func extractBuild(t *testing.T, builder *stage) buildLine {
	t.Helper()
	runs, envs := commands[*instructions.RunCommand](builder)
	var idx []int
	for i, r := range runs {
		if strings.Contains(strings.Join(r.CmdLine, " "), "go build") {
			idx = append(idx, i)
		}
	}
	if len(idx) != 1 {
		t.Fatalf("builder stage %q: want exactly one RUN with `go build`, found %d", builder.Name, len(idx))
	}
	run, env := runs[idx[0]], envs[idx[0]]
	b := buildLine{where: lines(run.Location()), env: maps.Clone(env)}
	if !run.PrependShell {
		t.Fatalf("%s: the go build RUN is in exec form; write it as a shell command line", b.where)
	}

	script := strings.Join(run.CmdLine, " ")
	file, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(script), "")
	if err != nil {
		t.Fatalf("%s: %v", b.where, err)
	}
	var call *syntax.CallExpr
	if len(file.Stmts) == 1 {
		st := file.Stmts[0]
		call, _ = st.Cmd.(*syntax.CallExpr)
		if st.Negated || st.Background || st.Coprocess || len(st.Redirs) > 0 {
			call = nil
		}
	}
	if call == nil {
		t.Fatalf("%s: the RUN must be a single `[VAR=value ...] go build ...` command, got %q", b.where, script)
	}

	var pairs []string
	for k, v := range env {
		pairs = append(pairs, k+"="+v)
	}
	cfg := &expand.Config{
		Env: expand.ListEnviron(pairs...),
		// An unset variable is empty to the shell; here it is almost
		// certainly a mistake in the build line.
		NoUnset: true,
		// With no CmdSubst, a command substitution is an error.
		// dash globs in the builder's WORKDIR, which this test cannot
		// reproduce; a failing ReadDir2 turns a glob into an error.
		ReadDir2: func(string) ([]fs.DirEntry, error) { return nil, errNoGlob },
	}
	for _, a := range call.Assigns {
		if a.Append || a.Naked || a.Index != nil || a.Array != nil {
			t.Fatalf("%s: %q is not a plain VAR=value assignment", b.where, script)
		}
		v := ""
		if a.Value != nil {
			if v, err = expand.Literal(cfg, a.Value); err != nil {
				t.Fatalf("%s: %s=: %v", b.where, a.Name.Value, err)
			}
		}
		b.env[a.Name.Value] = v
	}
	// dash does no brace expansion, expand.Fields does: keep braces out.
	for _, w := range call.Args {
		for _, p := range w.Parts {
			if lit, ok := p.(*syntax.Lit); ok && strings.ContainsAny(lit.Value, "{}") {
				t.Fatalf("%s: unquoted brace in %q: dash and this test would read it differently", b.where, lit.Value)
			}
		}
	}
	if b.argv, err = expand.Fields(cfg, call.Args...); err != nil {
		t.Fatalf("%s: %v", b.where, err)
	}
	if len(b.argv) < 2 || b.argv[0] != "go" || b.argv[1] != "build" {
		t.Fatalf("%s: the RUN must be a single `[VAR=value ...] go build ...` command, got %q", b.where, b.argv)
	}
	for i, w := range b.argv {
		if w == "-o" && i+1 < len(b.argv) {
			b.output = b.argv[i+1]
		} else if v, ok := strings.CutPrefix(w, "-o="); ok {
			b.output = v
		}
	}
	if b.output == "" {
		t.Fatalf("%s: go build has no -o", b.where)
	}
	return b
}

func TestDockerfileBuilderProducesStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the exporter; skipped in -short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	root := repoRoot(t)
	df := loadDockerfile(t, testBuildArgs)
	src, _, builder := copyFromBuilder(t, df)
	b := extractBuild(t, builder)

	if got := b.env["CGO_ENABLED"]; got != "0" {
		t.Errorf("%s: build runs with CGO_ENABLED=%q, want 0", b.where, got)
	}
	if b.output != src && path.Join(b.output, binaryName) != src {
		t.Errorf("%s: go build writes %s but the final stage copies %s", b.where, b.output, src)
	}
	ldflags := ""
	for i, w := range b.argv {
		if w == "-ldflags" && i+1 < len(b.argv) {
			ldflags = b.argv[i+1]
		} else if v, ok := strings.CutPrefix(w, "-ldflags="); ok {
			ldflags = v
		}
	}
	for _, v := range []string{"Version", "Revision", "Branch", "BuildUser", "BuildDate"} {
		if !strings.Contains(ldflags, "-X "+versionPkg+"."+v+"=") {
			t.Errorf("%s: -ldflags does not set %s.%s", b.where, versionPkg, v)
		}
	}

	// The build context as Docker would send it.
	tmp := t.TempDir()
	ctxDir := filepath.Join(tmp, "context")
	copyContext(t, root, ctxDir, loadDockerignore(t))

	out := filepath.Join(tmp, "out", binaryName)
	argv := append([]string(nil), b.argv[1:]...)
	for i, w := range argv {
		if w == "-o" {
			argv[i+1] = out
		} else if strings.HasPrefix(w, "-o=") {
			argv[i] = "-o=" + out
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, argv...)
	cmd.Dir = ctxDir
	cmd.Env = buildEnv(b.env)
	t.Logf("%s: %s go %s", b.where, envPrefix(b.env), quoteWords(argv))
	if outp, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the builder's go build failed: %v\n%s", err, outp)
	}

	checkStaticELF(t, out)

	// `--version` reports what the ldflags set.
	vctx, vcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer vcancel()
	vout, err := exec.CommandContext(vctx, out, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", binaryName, err, vout)
	}
	version := strings.TrimSpace(readRepoFile(t, "VERSION"))
	text := string(vout)
	for _, want := range []string{
		binaryName + ", version " + version,
		"branch: " + testBuildArgs["BRANCH"],
		"revision: " + testBuildArgs["REVISION"],
		"build user:       " + testBuildArgs["BUILD_USER"],
		"build date:       " + testBuildArgs["BUILD_DATE"],
		"go version:       go",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("--version output lacks %q:\n%s", want, text)
		}
	}

	// The port the image EXPOSEs is the binary's default.
	hctx, hcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer hcancel()
	hout, _ := exec.CommandContext(hctx, out, "--help").CombinedOutput()
	if !strings.Contains(string(hout), ":"+defaultPort) {
		t.Errorf("--help does not show the default listen port %s:\n%s", defaultPort, hout)
	}
}

// buildEnv is this process's environment with the Go variables that would
// change the build removed, plus the build line's own assignments: inside the
// golang image none of them is set.
func buildEnv(assign map[string]string) []string {
	drop := map[string]bool{
		"CGO_ENABLED": true, "GOOS": true, "GOARCH": true, "GOFLAGS": true, "GOAMD64": true,
		"GOARM": true, "GOARM64": true, "GOEXPERIMENT": true, "CC": true, "CGO_LDFLAGS": true, "GOWORK": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] {
			continue
		}
		if _, ok := assign[k]; ok {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range assign {
		env = append(env, k+"="+v)
	}
	return append(env, "GOWORK=off")
}

func envPrefix(env map[string]string) string {
	var parts []string
	for k, v := range env {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return quoteWords(parts)
}

func quoteWords(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w == "" || strings.ContainsAny(w, " \t\"'$") {
			out[i] = strconv.Quote(w)
		} else {
			out[i] = w
		}
	}
	return strings.Join(out, " ")
}

// checkStaticELF fails unless the file is an ELF executable with no program
// interpreter and no shared-library dependencies.
func checkStaticELF(t *testing.T, file string) {
	t.Helper()
	for _, p := range staticELFProblems(file) {
		t.Error(p)
	}
}

func staticELFProblems(file string) []string {
	f, err := elf.Open(file)
	if err != nil {
		return []string{fmt.Sprintf("%s is not an ELF file: %v", file, err)}
	}
	defer f.Close()
	var problems []string
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		problems = append(problems, fmt.Sprintf("ELF type %v, want an executable", f.Type))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			_, _ = p.ReadAt(b, 0)
			problems = append(problems, fmt.Sprintf("%s has a program interpreter (PT_INTERP %q): it is dynamically linked", file, strings.TrimRight(string(b), "\x00")))
		}
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		problems = append(problems, fmt.Sprintf("reading the dynamic section of %s: %v", file, err))
	} else if len(needed) > 0 {
		problems = append(problems, fmt.Sprintf("%s needs shared libraries (DT_NEEDED %q)", file, needed))
	}
	return problems
}

func TestStaticELFCheckSeesDynamicBinaries(t *testing.T) {
	// Any dynamically linked system binary will do as a known-bad input.
	var dyn string
	for _, p := range []string{"/bin/sh", "/usr/bin/env", "/bin/ls"} {
		if f, err := elf.Open(p); err == nil {
			for _, prog := range f.Progs {
				if prog.Type == elf.PT_INTERP {
					dyn = p
				}
			}
			f.Close()
		}
		if dyn != "" {
			break
		}
	}
	if dyn == "" {
		t.Skip("no dynamically linked ELF binary on this machine to check against")
	}
	problems := staticELFProblems(dyn)
	var interp, needed bool
	for _, p := range problems {
		interp = interp || strings.Contains(p, "PT_INTERP")
		needed = needed || strings.Contains(p, "DT_NEEDED")
	}
	if !interp || !needed {
		t.Errorf("%s: want both PT_INTERP and DT_NEEDED reported, got %q", dyn, problems)
	}
}

// The builder image's Go must be the release go.mod asks for (major.minor;
// the golang:1.N tag follows the latest patch release).
func TestDockerfileGoVersion(t *testing.T) {
	df := loadDockerfile(t, nil)
	builder := df.stages[0]
	tag, ok := strings.CutPrefix(builder.base, "golang:")
	if !ok {
		t.Fatalf("first stage FROM %s: want a golang:<version> builder", builder.base)
	}
	mod, err := modfile.ParseLax("go.mod", []byte(readRepoFile(t, "go.mod")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if mod.Go == nil {
		t.Fatal("go.mod has no go directive")
	}
	want := strings.TrimPrefix(semver.MajorMinor("v"+mod.Go.Version), "v")
	if want == "" {
		t.Fatalf("cannot read the go directive %q of go.mod", mod.Go.Version)
	}
	if tag != want && !strings.HasPrefix(tag, want+".") && !strings.HasPrefix(tag, want+"-") {
		t.Errorf("builder image golang:%s, go.mod asks for go %s", tag, mod.Go.Version)
	}
}
