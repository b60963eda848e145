package release

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// ignorePattern is one line of a .dockerignore file. The matching follows
// Docker's documented rules: patterns are relative to the context root (a
// leading slash is dropped), '*' and '?' do not cross '/', '**' matches any
// number of directories, a pattern that matches a directory excludes
// everything below it, '!' re-includes, and the last matching line wins.
type ignorePattern struct {
	text    string
	exclude bool
	re      *regexp.Regexp
}

type dockerignore []ignorePattern

func parseDockerignore(r io.Reader) (dockerignore, error) {
	var out dockerignore
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{text: line, exclude: true}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			p.exclude = false
			line = strings.TrimSpace(rest)
		}
		line = path.Clean(strings.TrimPrefix(filepath.ToSlash(line), "/"))
		re, err := globToRegexp(line)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", p.text, err)
		}
		p.re = re
		out = append(out, p)
	}
	return out, sc.Err()
}

func globToRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				i++
				if i+1 < len(glob) && glob[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(glob[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			class := glob[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		case '\\':
			if i+1 < len(glob) {
				i++
				b.WriteString(regexp.QuoteMeta(string(glob[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// excluded reports whether the slash-separated context path rel is left out of
// the build context.
func (d dockerignore) excluded(rel string) bool {
	rel = path.Clean(rel)
	// The path and each of its parent directories.
	var candidates []string
	for p := rel; p != "." && p != "/"; p = path.Dir(p) {
		candidates = append(candidates, p)
	}
	out := false
	for _, p := range d {
		for _, c := range candidates {
			if p.re.MatchString(c) {
				out = p.exclude
				break
			}
		}
	}
	return out
}

func (d dockerignore) hasExceptions() bool {
	for _, p := range d {
		if !p.exclude {
			return true
		}
	}
	return false
}

// copyContext copies the regular files of src that the patterns keep into dst,
// as `docker build` would send them as the build context.
func copyContext(src, dst string, ign dockerignore) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		slashRel := filepath.ToSlash(rel)
		if de.IsDir() {
			if ign.excluded(slashRel) && !ign.hasExceptions() {
				return filepath.SkipDir
			}
			return nil
		}
		if !de.Type().IsRegular() || ign.excluded(slashRel) {
			return nil
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := copyFile(p, target); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
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
		out.Close()
		return err
	}
	return out.Close()
}
