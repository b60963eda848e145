package main

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/version"
)

func TestVersionFromBuildInfo(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name      string
		bi        *debug.BuildInfo
		file      string
		ver, date string
	}{
		{"no build information", nil, "0.1.0\n", "0.1.0-dev", ""},
		{"go run", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "0.1.0\n", "0.1.0-dev", ""},
		{"go install of a release", &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}}, "0.1.0", "0.2.0", ""},
		{"go install of a release candidate", &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0-rc.1"}}, "0.1.0", "0.2.0-rc.1", ""},
		{"modified checkout of a tag", &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0+dirty"}}, "0.2.0", "0.2.0-dev", ""},
		{
			"go build in a checkout with no tag",
			&debug.BuildInfo{
				Main:     debug.Module{Version: "v0.0.0-20261128092019-05d955fa07ff"},
				Settings: vcs("vcs", "git", "vcs.revision", "05d955fa07ff6a7f4efa6ff6a629058e6ac6cf73", "vcs.time", "2026-11-28T09:20:19Z", "vcs.modified", "false"),
			},
			"0.1.0", "0.1.0-dev", "20261128-09:20:19",
		},
		{
			"go build after a tag, modified",
			&debug.BuildInfo{
				Main:     debug.Module{Version: "v0.1.1-0.20261128092019-05d955fa07ff+dirty"},
				Settings: vcs("vcs.time", "2026-11-28T10:20:19+01:00", "vcs.modified", "true"),
			},
			"0.2.0", "0.2.0-dev", "20261128-09:20:19",
		},
		{"unreadable commit time", &debug.BuildInfo{Settings: vcs("vcs.time", "yesterday")}, "0.1.0", "0.1.0-dev", ""},
		{"empty VERSION file", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, " \n", "unknown-dev", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ver, date := versionFromBuildInfo(tt.bi, tt.file)
			if ver != tt.ver || date != tt.date {
				t.Errorf("got version %q, date %q; want %q, %q", ver, date, tt.ver, tt.date)
			}
		})
	}
}

// Linker flags win: fillVersion only fills what they left empty.
func TestFillVersionKeepsLinkerFlags(t *testing.T) {
	saved := [2]string{version.Version, version.BuildDate}
	t.Cleanup(func() { version.Version, version.BuildDate = saved[0], saved[1] })

	version.Version, version.BuildDate = "9.8.7", "20010203-04:05:06"
	fillVersion()
	if version.Version != "9.8.7" || version.BuildDate != "20010203-04:05:06" {
		t.Errorf("fillVersion replaced the linker's values: version %q, date %q", version.Version, version.BuildDate)
	}

	// Without linker flags, a test binary is a development build: the
	// expected values come from the VERSION file and the build
	// information, read here by hand rather than by the code under test.
	version.Version, version.BuildDate = "", ""
	fillVersion()
	file, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	wantVer := strings.TrimSpace(string(file)) + "-dev"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("a test binary without build information")
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		t.Skipf("the test binary says it is module version %q: not the development build this test expects", v)
	}
	wantDate := ""
	for _, s := range bi.Settings {
		if s.Key == "vcs.time" {
			when, err := time.Parse(time.RFC3339, s.Value)
			if err != nil {
				t.Fatal(err)
			}
			wantDate = when.UTC().Format("20060102-15:04:05")
		}
	}
	if version.Version != wantVer || version.BuildDate != wantDate {
		t.Errorf("fillVersion set version %q, date %q; want %q, %q", version.Version, version.BuildDate, wantVer, wantDate)
	}
}

func TestVersionFileEmbedded(t *testing.T) {
	b, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if versionFile != string(b) || strings.TrimSpace(versionFile) == "" {
		t.Errorf("embedded VERSION %q, file holds %q", versionFile, b)
	}
}
