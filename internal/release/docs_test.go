package release

import (
	"regexp"
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

// The README's performance table repeats figures of docs/performance.md:
// a headline that nobody measured, or one left behind when the document
// was rerun, fails here.
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
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| case ") {
			continue
		}
		cells := strings.Split(line, " | ")
		measured := cells[len(cells)-1]
		for _, f := range figure.FindAllString(measured, -1) {
			checked++
			if !strings.Contains(docs, f) {
				t.Errorf("README.md's performance row %q gives %q, which docs/performance.md does not", cells[0], f)
			}
		}
	}
	if checked == 0 {
		t.Error("README.md's performance table gives no figures")
	}
}
