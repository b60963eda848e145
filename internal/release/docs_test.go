package release

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	changelogHeading = regexp.MustCompile(`^## (\S+) / (.+)$`)
	changelogEntry   = regexp.MustCompile(`^\* \[(CHANGE|FEATURE|ENHANCEMENT|SECURITY|BUGFIX)\] \S`)
)

// CHANGELOG.md follows the Prometheus projects' format, and its newest
// release is the one VERSION names: a release cut without its changelog
// entry fails here.
func TestChangelog(t *testing.T) {
	version := strings.TrimSpace(readRepoFile(t, "VERSION"))
	var releases []string
	for i, line := range strings.Split(readRepoFile(t, "CHANGELOG.md"), "\n") {
		n := i + 1
		if strings.HasPrefix(line, "## ") {
			m := changelogHeading.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("CHANGELOG.md:%d: heading %q: want \"## VERSION / YYYY-MM-DD\" or \"## main / unreleased\"", n, line)
				continue
			}
			if m[1] == "main" && m[2] == "unreleased" {
				if len(releases) > 0 {
					t.Errorf("CHANGELOG.md:%d: \"main / unreleased\" below a release", n)
				}
				continue
			}
			if _, err := time.Parse(time.DateOnly, m[2]); err != nil {
				t.Errorf("CHANGELOG.md:%d: release %s dated %q: want YYYY-MM-DD", n, m[1], m[2])
			}
			releases = append(releases, m[1])
		}
		if strings.HasPrefix(line, "* ") && !changelogEntry.MatchString(line) {
			t.Errorf("CHANGELOG.md:%d: entry %q: want \"* [CHANGE|FEATURE|ENHANCEMENT|SECURITY|BUGFIX] ...\"", n, line)
		}
	}
	if len(releases) == 0 || releases[0] != version {
		t.Errorf("CHANGELOG.md's newest release is %q, VERSION says %s", releases, version)
	}
}

// LICENSE is the whole Apache License 2.0, not a part or another licence.
func TestLicense(t *testing.T) {
	text := readRepoFile(t, "LICENSE")
	for _, want := range []string{"Apache License\n", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS", "APPENDIX: How to apply the Apache License to your work."} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
	if !strings.Contains(readRepoFile(t, "README.md"), "[Apache License, Version 2.0](LICENSE)") {
		t.Error("README.md does not name the licence with a link to LICENSE")
	}
}

// figure is a measured quantity as the documents write them: 564-568 ms,
// 1.09x, 29.8-33.5 MiB.
var figure = regexp.MustCompile(`\d[\d,.]*(?:-\d[\d,.]*)? ?(?:ms|s|x|MiB|KiB)\b`)

// The README's performance table repeats figures of docs/performance.md,
// and each row names, in quotes, the part of the document they come from:
// a section (its "## " heading) or a paragraph (its bold opening). A
// headline that nobody measured, one left behind when the document was
// rerun, or one taken from another row of the document fails here.
func TestPerformanceHeadline(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	docs := readRepoFile(t, "docs/performance.md")
	_, section, ok := strings.Cut(readme, "\n## Performance\n")
	if !ok {
		t.Fatal(`README.md has no "## Performance" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	checked := 0
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| case ") || strings.HasPrefix(line, "| --- ") {
			continue
		}
		cells := strings.Split(line, " | ")
		measured := cells[len(cells)-1]
		src := docsSource.FindStringSubmatch(measured)
		if src == nil {
			t.Errorf("README.md's performance row %q names no part of docs/performance.md (docs/performance.md (\"...\"))", cells[0])
			continue
		}
		part, err := docsPart(docs, src[1])
		if err != nil {
			t.Errorf("README.md's performance row %q: %v", cells[0], err)
			continue
		}
		// The row's figures, outside its code spans (a command's --latency
		// 20ms is no result), must be figures of the part in the same
		// order: a 1.09x of another case in the same paragraph does not
		// stand in for this one's.
		got := figure.FindAllString(codeSpan.ReplaceAllString(measured, ""), -1)
		have := figure.FindAllString(part, -1)
		i := 0
		for k, f := range got {
			checked++
			j := slices.Index(have[i:], f)
			if j < 0 {
				t.Errorf("README.md's performance row %q gives %q, which docs/performance.md's %q does not have after the figures %q", cells[0], f, src[1], got[:k])
				break
			}
			i += j + 1
		}
	}
	if checked == 0 {
		t.Error("README.md's performance table gives no figures")
	}
}

// docsSource is how a README performance row names its source:
// docs/performance.md ("Rerun on the final tree") or
// docs/performance.md, "Rerun on the final tree".
var codeSpan = regexp.MustCompile("`[^`]*`")

var docsSource = regexp.MustCompile(`docs/performance\.md,? \(?"([^"]+)"`)

// docsPart returns the section of docs whose "## " heading is name, up to
// the next heading of that level, or the paragraph that opens with
// **name**, up to the blank line after it.
func docsPart(docs, name string) (string, error) {
	if _, rest, ok := strings.Cut(docs, "\n## "+name+"\n"); ok {
		part, _, _ := strings.Cut(rest, "\n## ")
		return part, nil
	}
	if _, rest, ok := strings.Cut(docs, "\n**"+name+"**"); ok {
		part, _, _ := strings.Cut(rest, "\n\n")
		return part, nil
	}
	return "", fmt.Errorf("docs/performance.md has no section or paragraph %q", name)
}
