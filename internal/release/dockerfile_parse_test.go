package release

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"
)

// A deliberately small Dockerfile reader: enough of the syntax for this
// project's Dockerfile (line continuations, comments, FROM/ARG/ENV/RUN/COPY/
// USER/EXPOSE/ENTRYPOINT/LABEL), not a general implementation.

type instruction struct {
	line int    // first line of the instruction, 1-based
	cmd  string // upper-cased keyword
	args string // everything after the keyword, continuations joined
}

type buildArg struct {
	name       string
	value      string
	hasDefault bool
}

type stage struct {
	index    int
	name     string // "AS name", lower-cased; may be empty
	base     string
	platform string
	instrs   []instruction
	args     []buildArg
}

type dockerfile struct {
	globalArgs []buildArg
	stages     []*stage
}

func parseDockerfileFile(path string) (*dockerfile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseDockerfile(string(b))
}

// splitInstructions joins continuation lines and drops comments and blanks.
func splitInstructions(src string) ([]instruction, error) {
	var (
		out     []instruction
		cur     strings.Builder
		start   int
		pending bool
	)
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRightFunc(sc.Text(), unicode.IsSpace)
		trimmed := strings.TrimSpace(line)
		// Comment lines are dropped, also in the middle of a continuation.
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if trimmed == "" && !pending {
			continue
		}
		if !pending {
			start = n
		}
		cont := strings.HasSuffix(line, `\`)
		if cont {
			line = strings.TrimSuffix(line, `\`)
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(strings.TrimSpace(line))
		pending = cont
		if !cont {
			text := cur.String()
			cur.Reset()
			kw, rest, _ := strings.Cut(text, " ")
			out = append(out, instruction{line: start, cmd: strings.ToUpper(kw), args: strings.TrimSpace(rest)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending {
		return nil, fmt.Errorf("line %d: continuation at end of file", start)
	}
	return out, nil
}

func parseArgDecl(s string) []buildArg {
	var out []buildArg
	for _, f := range strings.Fields(s) {
		name, value, ok := strings.Cut(f, "=")
		out = append(out, buildArg{name: name, value: strings.Trim(value, `"'`), hasDefault: ok})
	}
	return out
}

func parseDockerfile(src string) (*dockerfile, error) {
	instrs, err := splitInstructions(src)
	if err != nil {
		return nil, err
	}
	df := &dockerfile{}
	var cur *stage
	for _, in := range instrs {
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			st := &stage{index: len(df.stages)}
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				if v, ok := strings.CutPrefix(f[0], "--platform="); ok {
					st.platform = v
				}
				f = f[1:]
			}
			if len(f) == 0 {
				return nil, fmt.Errorf("line %d: FROM without an image", in.line)
			}
			st.base = f[0]
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = strings.ToLower(f[2])
			} else if len(f) != 1 {
				return nil, fmt.Errorf("line %d: cannot read FROM %q", in.line, in.args)
			}
			df.stages = append(df.stages, st)
			cur = st
		case cur == nil && in.cmd == "ARG":
			df.globalArgs = append(df.globalArgs, parseArgDecl(in.args)...)
		case cur == nil:
			return nil, fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
		default:
			if in.cmd == "ARG" {
				cur.args = append(cur.args, parseArgDecl(in.args)...)
			}
			cur.instrs = append(cur.instrs, in)
		}
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("no FROM instruction")
	}
	return df, nil
}

func (df *dockerfile) final() *stage { return df.stages[len(df.stages)-1] }

// stageByRef finds a stage by name or index, as COPY --from= refers to it.
func (df *dockerfile) stageByRef(ref string) *stage {
	for _, st := range df.stages {
		if st.name == strings.ToLower(ref) || fmt.Sprint(st.index) == ref {
			return st
		}
	}
	return nil
}

func (st *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range st.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// last returns the instruction that takes effect for single-valued
// instructions such as USER or ENTRYPOINT.
func (st *stage) last(cmd string) (instruction, bool) {
	all := st.all(cmd)
	if len(all) == 0 {
		return instruction{}, false
	}
	return all[len(all)-1], true
}

// argDefault returns the default of a build argument as seen in the stage:
// a stage-level ARG without a value inherits the global default.
func (df *dockerfile) argDefault(st *stage, name string) (string, bool) {
	for i := len(st.args) - 1; i >= 0; i-- {
		a := st.args[i]
		if a.name != name {
			continue
		}
		if a.hasDefault {
			return a.value, true
		}
		for _, g := range df.globalArgs {
			if g.name == name && g.hasDefault {
				return g.value, true
			}
		}
		return "", true
	}
	return "", false
}

// env returns the variables a RUN in the stage sees from ENV and ARG
// instructions (defaults only; overrides simulate --build-arg).
func (df *dockerfile) env(st *stage, overrides map[string]string) map[string]string {
	env := map[string]string{}
	for _, in := range st.instrs {
		switch in.cmd {
		case "ARG":
			for _, a := range parseArgDecl(in.args) {
				v, _ := df.argDefault(st, a.name)
				if o, ok := overrides[a.name]; ok {
					v = o
				}
				env[a.name] = v
			}
		case "ENV":
			for k, v := range parseEnvDecl(in.args) {
				env[k] = v
			}
		}
	}
	return env
}

func parseEnvDecl(s string) map[string]string {
	out := map[string]string{}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return out
	}
	if !strings.Contains(fields[0], "=") {
		// Legacy form: ENV KEY value with spaces
		k, v, _ := strings.Cut(s, " ")
		out[k] = strings.TrimSpace(v)
		return out
	}
	words, err := shellWords(s, func(string) (string, error) { return "", nil })
	if err != nil {
		return out
	}
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		out[k] = v
	}
	return out
}

// execForm decodes the JSON array form of ENTRYPOINT/CMD.
func execForm(args string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		return nil, fmt.Errorf("not in exec (JSON array) form: %q", args)
	}
	return v, nil
}

// runCommand strips RUN's own flags (--mount=..., --network=...) and returns
// the shell command.
func runCommand(args string) string {
	s := strings.TrimSpace(args)
	for strings.HasPrefix(s, "--") {
		_, rest, _ := strings.Cut(s, " ")
		s = strings.TrimSpace(rest)
	}
	return s
}

// shellWords splits a POSIX shell simple command into words, expanding
// $VAR and ${VAR} through lookup. Anything beyond a simple command (pipes,
// lists, redirections, command substitution, globbing) is rejected: the
// build line must stay simple enough to be run outside Docker verbatim.
func shellWords(s string, lookup func(string) (string, error)) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	expand := func(i int) (int, error) {
		// s[i] == '$'
		if i+1 >= len(s) {
			return 0, fmt.Errorf("lone $ at end")
		}
		var name string
		j := i + 1
		switch s[j] {
		case '{':
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				return 0, fmt.Errorf("unterminated ${")
			}
			name = s[j+1 : j+end]
			j += end + 1
			if strings.ContainsAny(name, ":-+=?#%/") {
				return 0, fmt.Errorf("parameter operators are not supported: ${%s}", name)
			}
		case '(':
			return 0, fmt.Errorf("command substitution is not supported")
		default:
			k := j
			for k < len(s) && (s[k] == '_' || unicode.IsLetter(rune(s[k])) || unicode.IsDigit(rune(s[k]))) {
				k++
			}
			if k == j {
				return 0, fmt.Errorf("unsupported $ expansion at %q", s[i:])
			}
			name = s[j:k]
			j = k
		}
		v, err := lookup(name)
		if err != nil {
			return 0, err
		}
		cur.WriteString(v)
		return j, nil
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated double quote")
				}
				d := s[i]
				if d == '"' {
					i++
					break
				}
				switch d {
				case '\\':
					if i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
						cur.WriteByte(s[i+1])
						i += 2
					} else {
						cur.WriteByte(d)
						i++
					}
				case '$':
					j, err := expand(i)
					if err != nil {
						return nil, err
					}
					i = j
				case '`':
					return nil, fmt.Errorf("command substitution is not supported")
				default:
					cur.WriteByte(d)
					i++
				}
			}
		case c == '\\':
			if i+1 < len(s) {
				cur.WriteByte(s[i+1])
			}
			inWord = true
			i += 2
		case c == '$':
			j, err := expand(i)
			if err != nil {
				return nil, err
			}
			inWord = true
			i = j
		case strings.IndexByte("|&;<>()`*?[{}~", c) >= 0:
			return nil, fmt.Errorf("shell syntax %q is not supported in the build line", string(c))
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
