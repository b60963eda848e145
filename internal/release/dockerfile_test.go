package release

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	binaryName    = "vocode_exporter"
	defaultPort   = "10401"
	versionPkg    = "github.com/prometheus/common/version"
	entrypointBin = "/bin/" + binaryName
)

func loadDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	df, err := parseDockerfileFile(repoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return df
}

// copyFromBuilder returns the final stage's COPY --from=<stage> instruction
// that brings the binary in, and the stage it copies from.
func copyFromBuilder(t *testing.T, df *dockerfile) (src, dst string, builder *stage) {
	t.Helper()
	for _, in := range df.final().all("COPY") {
		f := strings.Fields(in.args)
		var from string
		var rest []string
		for _, w := range f {
			if v, ok := strings.CutPrefix(w, "--from="); ok {
				from = v
			} else if !strings.HasPrefix(w, "--") {
				rest = append(rest, w)
			}
		}
		if from == "" || len(rest) != 2 {
			continue
		}
		if st := df.stageByRef(from); st != nil {
			return rest[0], rest[1], st
		}
	}
	t.Fatalf("Dockerfile line: the final stage has no `COPY --from=<builder stage> <binary> <dest>`")
	return "", "", nil
}

func TestDockerfileFinalStage(t *testing.T) {
	df := loadDockerfile(t)
	if len(df.stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(df.stages))
	}
	final := df.final()

	// Base image: a minimal one without a package manager.
	if !strings.HasPrefix(final.base, "gcr.io/distroless/static") && !strings.HasPrefix(final.base, "quay.io/prometheus/busybox") {
		t.Errorf("final stage FROM %s: want gcr.io/distroless/static* or quay.io/prometheus/busybox*", final.base)
	}

	// USER: numeric and non-zero, so that Kubernetes' runAsNonRoot can verify it.
	user, ok := final.last("USER")
	if !ok {
		t.Fatal("final stage has no USER: the image would run as root")
	}
	uidText, gidText, _ := strings.Cut(strings.TrimSpace(user.args), ":")
	uid, err := strconv.Atoi(uidText)
	if err != nil {
		t.Errorf("line %d: USER %q: want a numeric uid (runAsNonRoot cannot check names)", user.line, user.args)
	} else if uid == 0 {
		t.Errorf("line %d: USER %q runs as root", user.line, user.args)
	}
	if gidText != "" {
		if gid, err := strconv.Atoi(gidText); err != nil || gid == 0 {
			t.Errorf("line %d: USER %q: want a numeric non-root group", user.line, user.args)
		}
	}
	for _, in := range final.all("USER") {
		if in.line > user.line {
			t.Errorf("line %d: USER after the effective one", in.line)
		}
	}

	// EXPOSE the default listen port.
	exposed := false
	for _, in := range final.all("EXPOSE") {
		for _, p := range strings.Fields(in.args) {
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
	ep, ok := final.last("ENTRYPOINT")
	if !ok {
		t.Fatal("final stage has no ENTRYPOINT")
	}
	argv, err := execForm(ep.args)
	if err != nil {
		t.Fatalf("line %d: ENTRYPOINT %v", ep.line, err)
	}
	if len(argv) == 0 || argv[0] != entrypointBin {
		t.Errorf("line %d: ENTRYPOINT %q: want [%q ...]", ep.line, argv, entrypointBin)
	}
	if _, ok := final.last("CMD"); ok {
		// A CMD would be appended to ENTRYPOINT; the exporter needs no args.
		t.Log("final stage has a CMD: make sure its arguments are meant as defaults")
	}

	// The binary copied from the builder is the one the entry point runs.
	_, dst, builder := copyFromBuilder(t, df)
	if dst != entrypointBin && path.Join(dst, binaryName) != entrypointBin {
		t.Errorf("COPY --from=%s puts the binary at %s, ENTRYPOINT runs %s", builder.name, dst, entrypointBin)
	}

	// OCI image labels.
	labels := map[string]string{}
	for _, in := range final.all("LABEL") {
		words, err := shellWords(in.args, func(name string) (string, error) {
			return "${" + name + "}", nil
		})
		if err != nil {
			t.Fatalf("line %d: LABEL: %v", in.line, err)
		}
		for _, w := range words {
			k, v, _ := strings.Cut(w, "=")
			labels[k] = v
		}
	}
	for _, k := range []string{"title", "description", "source", "version", "revision", "created"} {
		key := "org.opencontainers.image." + k
		if labels[key] == "" {
			t.Errorf("missing LABEL %s", key)
		}
	}
	if v := labels["org.opencontainers.image.version"]; v != "${VERSION}" {
		t.Errorf("LABEL org.opencontainers.image.version=%q: want it from ARG VERSION", v)
	}
}

func TestDockerfileVersionMatchesVersionFile(t *testing.T) {
	want := strings.TrimSpace(readRepoFile(t, "VERSION"))
	if want == "" {
		t.Fatal("VERSION file is empty")
	}
	df := loadDockerfile(t)
	seen := false
	for _, st := range df.stages {
		if v, ok := df.argDefault(st, "VERSION"); ok {
			seen = true
			if v != want {
				t.Errorf("stage %q: ARG VERSION=%s, VERSION file says %s", st.name, v, want)
			}
		}
	}
	if !seen {
		t.Error("the Dockerfile declares no ARG VERSION")
	}
}

func TestDockerignore(t *testing.T) {
	f, err := os.Open(repoFile(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ign, err := parseDockerignore(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git/HEAD", ".tools/bin/golangci-lint", binaryName, "examples/prometheus.yml", "dashboards/dashboardtest/go.mod", "collector/coverage.out"} {
		if !ign.excluded(p) {
			t.Errorf(".dockerignore keeps %s in the build context", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "main.go", "VERSION", "collector/collector.go", "vocode/client.go"} {
		if ign.excluded(p) {
			t.Errorf(".dockerignore drops %s, which the build needs", p)
		}
	}
}

func TestDockerignoreMatching(t *testing.T) {
	ign, err := parseDockerignore(strings.NewReader("# c\n/dist\n*.md\n!README.md\n**/testdata\nfoo/*/bar\n"))
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"dist":                   true,
		"dist/a/b":               true,
		"x/dist":                 false,
		"NOTES.md":               true,
		"README.md":              false,
		"docs/NOTES.md":          false,
		"testdata/x":             true,
		"a/b/testdata/x.json":    true,
		"foo/x/bar":              true,
		"foo/x/y/bar":            false,
		"collector/collector.go": false,
	} {
		if got := ign.excluded(p); got != want {
			t.Errorf("excluded(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two words"}
	lookup := func(n string) (string, error) { return vars[n], nil }
	got, err := shellWords(`X=$A go build -ldflags "-X p.V=${B} \"q\"" 'lit $A' -o /out/x .`, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"X=1", "go", "build", "-ldflags", `-X p.V=two words "q"`, "lit $A", "-o", "/out/x", "."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"a && b", "a; b", "a | b", "echo $(date)", "echo `date`", "a > f", "${X:-y}"} {
		if _, err := shellWords(bad, lookup); err == nil {
			t.Errorf("shellWords(%q): want an error", bad)
		}
	}
}

// builderBuild is the builder stage's build line, ready to run outside Docker.
type builderBuild struct {
	line   int
	env    map[string]string // VAR=value prefixes of the command
	argv   []string          // go build ...
	output string            // the -o argument as written
}

func extractBuild(t *testing.T, df *dockerfile, st *stage, buildArgs map[string]string) builderBuild {
	t.Helper()
	var runs []instruction
	for _, in := range st.all("RUN") {
		if strings.Contains(in.args, "go build") {
			runs = append(runs, in)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("builder stage %q: want exactly one RUN with `go build`, found %d", st.name, len(runs))
	}
	in := runs[0]

	env := df.env(st, buildArgs)
	// BuildKit's automatic platform arguments: building here stands in for
	// building for the platform of this machine.
	platform := map[string]string{
		"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH, "TARGETPLATFORM": runtime.GOOS + "/" + runtime.GOARCH,
		"BUILDOS": runtime.GOOS, "BUILDARCH": runtime.GOARCH, "BUILDPLATFORM": runtime.GOOS + "/" + runtime.GOARCH,
	}
	lookup := func(name string) (string, error) {
		if v, ok := env[name]; ok {
			if p, isPlatform := platform[name]; isPlatform && v == "" {
				return p, nil
			}
			return v, nil
		}
		// In the shell an unset variable is empty; refuse it here, since it
		// is almost certainly a mistake in the build line.
		t.Errorf("line %d: the build line uses $%s, which no ARG or ENV of the stage declares", in.line, name)
		return "", nil
	}
	words, err := shellWords(runCommand(in.args), lookup)
	if err != nil {
		t.Fatalf("line %d: %v", in.line, err)
	}
	b := builderBuild{line: in.line, env: map[string]string{}}
	for len(words) > 0 {
		k, v, ok := strings.Cut(words[0], "=")
		if !ok || k == "" || strings.ContainsAny(k, "-./") {
			break
		}
		b.env[k] = v
		words = words[1:]
	}
	// ENV instructions are part of the environment too.
	for _, e := range st.all("ENV") {
		for k, v := range parseEnvDecl(e.args) {
			if _, ok := b.env[k]; !ok {
				b.env[k] = v
			}
		}
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("line %d: the RUN must be a single `[VAR=value ...] go build ...` command, got %q", in.line, words)
	}
	b.argv = words
	for i, w := range words {
		if w == "-o" && i+1 < len(words) {
			b.output = words[i+1]
		} else if v, ok := strings.CutPrefix(w, "-o="); ok {
			b.output = v
		}
	}
	if b.output == "" {
		t.Fatalf("line %d: go build has no -o", in.line)
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
	df := loadDockerfile(t)
	src, _, builder := copyFromBuilder(t, df)

	// Distinct values stand in for `docker build --build-arg ...`, so the
	// test sees every -X reach prometheus/common/version. VERSION keeps the
	// Dockerfile's default.
	buildArgs := map[string]string{
		"REVISION":   "0123456789abcdef-release-test",
		"BRANCH":     "release-test-branch",
		"BUILD_USER": "release-test-user",
		"BUILD_DATE": "20260102-03:04:05",
	}
	b := extractBuild(t, df, builder, buildArgs)

	if got := b.env["CGO_ENABLED"]; got != "0" {
		t.Errorf("line %d: build runs with CGO_ENABLED=%q, want 0", b.line, got)
	}
	if b.output != src && path.Join(b.output, binaryName) != src {
		t.Errorf("line %d: go build writes %s but the final stage copies %s", b.line, b.output, src)
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
			t.Errorf("line %d: -ldflags does not set %s.%s", b.line, versionPkg, v)
		}
	}

	// The build context as Docker would send it.
	tmp := t.TempDir()
	ctxDir := filepath.Join(tmp, "context")
	ignFile, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	ign, err := parseDockerignore(ignFile)
	ignFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copyContext(root, ctxDir, ign); err != nil {
		t.Fatal(err)
	}

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
	t.Logf("line %d: %s go %s", b.line, envPrefix(b.env), quoteWords(argv))
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
		"branch: " + buildArgs["BRANCH"],
		"revision: " + buildArgs["REVISION"],
		"build user:       " + buildArgs["BUILD_USER"],
		"build date:       " + buildArgs["BUILD_DATE"],
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
	df := loadDockerfile(t)
	var goVersion string
	for _, a := range df.globalArgs {
		if a.name == "GO_VERSION" {
			goVersion = a.value
		}
	}
	builder := df.stages[0]
	image := strings.ReplaceAll(builder.base, "${GO_VERSION}", goVersion)
	tag, ok := strings.CutPrefix(image, "golang:")
	if !ok {
		t.Fatalf("first stage FROM %s: want a golang:<version> builder", builder.base)
	}
	var modGo string
	for _, line := range strings.Split(readRepoFile(t, "go.mod"), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			modGo = strings.TrimSpace(v)
		}
	}
	parts := strings.SplitN(modGo, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("cannot read the go directive %q of go.mod", modGo)
	}
	want := parts[0] + "." + parts[1]
	if tag != want && !strings.HasPrefix(tag, want+".") && !strings.HasPrefix(tag, want+"-") {
		t.Errorf("builder image golang:%s, go.mod asks for go %s", tag, modGo)
	}
}
