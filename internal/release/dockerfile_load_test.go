package release

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// BuildKit parses the Dockerfile and expands its variables; what is left to
// this file is the order in which BuildKit feeds ARG and ENV values to that
// expansion, which lives in its LLB converter, too heavy a dependency for a
// test.

// platformArgs are the build arguments BuildKit sets by itself. A build here
// stands in for one for this machine's platform.
var platformArgs = map[string]string{
	"BUILDPLATFORM":  runtime.GOOS + "/" + runtime.GOARCH,
	"BUILDOS":        runtime.GOOS,
	"BUILDARCH":      runtime.GOARCH,
	"TARGETPLATFORM": runtime.GOOS + "/" + runtime.GOARCH,
	"TARGETOS":       runtime.GOOS,
	"TARGETARCH":     runtime.GOARCH,
}

type dockerfile struct {
	stages []*stage
	// globalArgs are the ARGs before the first FROM, as FROM lines see them.
	globalArgs map[string]string
}

type stage struct {
	instructions.Stage
	index int
	base  string // the FROM image, expanded
	steps []step
	// args holds the stage's ARG values in effect at its end, env its ENV
	// values: a RUN sees both, an image label only what it names.
	args, env map[string]string
}

// step is an instruction after expansion, with the environment a RUN at that
// point would get from the stage's ARG and ENV instructions.
type step struct {
	cmd instructions.Command
	env map[string]string
}

// loadDockerfile parses the repository's Dockerfile and expands its
// variables as `docker build` would with these --build-arg values. Parser
// and lint warnings fail the test: they would show up in every image build.
func loadDockerfile(t *testing.T, buildArgs map[string]string) *dockerfile {
	t.Helper()
	df, err := parseDockerfile(repoFile(t, "Dockerfile"), buildArgs)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return df
}

func parseDockerfile(path string, buildArgs map[string]string) (*dockerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, w := range res.Warnings {
		problems = append(problems, fmt.Sprintf("line %d: %s", w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		problems = append(problems, fmt.Sprintf("%s: %s (%s)", lines(loc), msg, rule))
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	if len(stages) == 0 {
		return nil, errors.New("no FROM instruction")
	}
	x := expander{lex: shell.NewLex(res.EscapeToken)}

	global := maps.Clone(platformArgs)
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v, ok, err := argValue(x, kv, buildArgs, global, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: ARG %s: %w", lines(a.Location()), kv.Key, err)
			}
			if ok {
				global[kv.Key] = v
			}
		}
	}
	df := &dockerfile{globalArgs: global}

	for i, s := range stages {
		st := &stage{Stage: s, index: i, args: map[string]string{}, env: map[string]string{}}
		if st.base, err = x.expand(s.BaseName, global); err != nil {
			return nil, fmt.Errorf("%s: FROM: %w", lines(s.Location), err)
		}
		for _, c := range s.Commands {
			where := lines(c.Location())
			switch cmd := c.(type) {
			case *instructions.ArgCommand:
				// A stage sees a global ARG only where it declares it again.
				for _, kv := range cmd.Args {
					v, ok, err := argValue(x, kv, buildArgs, st.vars(), global)
					if err != nil {
						return nil, fmt.Errorf("%s: ARG %s: %w", where, kv.Key, err)
					}
					if ok {
						st.args[kv.Key] = v
					}
				}
			case instructions.SupportsSingleWordExpansion:
				vars := st.vars()
				err := cmd.Expand(func(word string) (string, error) { return x.expand(word, vars) })
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", where, c.Name(), err)
				}
				if e, ok := cmd.(*instructions.EnvCommand); ok {
					for _, kv := range e.Env {
						st.env[kv.Key] = kv.Value
					}
				}
			}
			st.steps = append(st.steps, step{cmd: c, env: st.vars()})
		}
		df.stages = append(df.stages, st)
	}
	return df, nil
}

// vars are the variables an instruction of the stage can refer to; an ENV
// shadows an ARG of the same name.
func (st *stage) vars() map[string]string {
	v := maps.Clone(st.args)
	maps.Copy(v, st.env)
	return v
}

// argValue is an ARG's value: a --build-arg wins over the default written in
// the ARG, which wins over the global ARG of that name (inherit) and, last,
// BuildKit's own platform value. ok is false for an ARG left without value.
func argValue(x expander, kv instructions.KeyValuePairOptional, buildArgs, vars, inherit map[string]string) (v string, ok bool, err error) {
	if v, ok := buildArgs[kv.Key]; ok {
		return v, true, nil
	}
	if kv.Value != nil {
		v, err := x.expand(*kv.Value, vars)
		return v, err == nil, err
	}
	if v, ok := inherit[kv.Key]; ok {
		return v, true, nil
	}
	v, ok = platformArgs[kv.Key]
	return v, ok, nil
}

type expander struct{ lex *shell.Lex }

// expand refuses variables that nothing declares: BuildKit would silently
// make them empty, which in this Dockerfile is always a mistake.
func (x expander) expand(word string, vars map[string]string) (string, error) {
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	res, err := x.lex.ProcessWordWithMatches(word, shell.EnvsFromSlice(env))
	if err != nil {
		return "", err
	}
	if len(res.Unmatched) > 0 {
		return "", fmt.Errorf("%q uses %s, which no ARG or ENV declares here", word, strings.Join(slices.Sorted(maps.Keys(res.Unmatched)), ", "))
	}
	return res.Result, nil
}

func lines(loc []parser.Range) string {
	if len(loc) == 0 {
		return "line ?"
	}
	if loc[0].Start.Line == loc[len(loc)-1].End.Line {
		return fmt.Sprintf("line %d", loc[0].Start.Line)
	}
	return fmt.Sprintf("lines %d-%d", loc[0].Start.Line, loc[len(loc)-1].End.Line)
}

func (df *dockerfile) final() *stage { return df.stages[len(df.stages)-1] }

// stageByRef finds a stage by name or index, as COPY --from= refers to it.
func (df *dockerfile) stageByRef(ref string) *stage {
	for _, st := range df.stages {
		if strings.EqualFold(st.Name, ref) || fmt.Sprint(st.index) == ref {
			return st
		}
	}
	return nil
}

// commands returns the stage's instructions of type T, in order, with the
// environment each one sees.
func commands[T instructions.Command](st *stage) ([]T, []map[string]string) {
	var out []T
	var envs []map[string]string
	for _, s := range st.steps {
		if c, ok := s.cmd.(T); ok {
			out = append(out, c)
			envs = append(envs, s.env)
		}
	}
	return out, envs
}

// last returns the instruction of type T that takes effect, for
// single-valued instructions such as USER or ENTRYPOINT.
func last[T instructions.Command](st *stage) (T, bool) {
	all, _ := commands[T](st)
	if len(all) == 0 {
		var zero T
		return zero, false
	}
	return all[len(all)-1], true
}
