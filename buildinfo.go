package main

import (
	_ "embed"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/common/version"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// versionFile is the VERSION file, compiled in: a build without linker flags
// (go build, go run, go install) has no other way to know which release its
// source is for.
//
//go:embed VERSION
var versionFile string

// devSuffix marks a version taken from the VERSION file by a build that is
// not a release: its source may be anywhere between two releases.
const devSuffix = "-dev"

// buildDateLayout is the layout of the Makefile's build dates.
const buildDateLayout = "20060102-15:04:05"

// fillVersion gives prometheus/common's version variables what the build
// information knows, where the linker flags (make build, make release, the
// Dockerfile) set nothing. The revision needs no help: prometheus/common
// already falls back to the vcs.revision that go build stamps.
func fillVersion() {
	bi, _ := debug.ReadBuildInfo()
	v, date := versionFromBuildInfo(bi, versionFile)
	if version.Version == "" {
		version.Version = v
	}
	if version.BuildDate == "" {
		version.BuildDate = date
	}
}

// versionFromBuildInfo returns the version and build date to report for a
// build without linker flags.
//
// The version is the main module's when it is a release: `go install
// ...@v1.2.3`, or go build in a clean checkout of tag v1.2.3 (Go 1.24 and
// later stamp it). Anything else is a development build (go run and builds
// without VCS information say "(devel)"; go build in a git checkout off a tag
// says a pseudo-version, "+dirty" when modified), and reports the VERSION
// file's version with "-dev".
//
// The build date is the commit's time as go build stamped it: a build from
// the same commit reports the same date, as release builds do.
func versionFromBuildInfo(bi *debug.BuildInfo, file string) (ver, date string) {
	ver = strings.TrimSpace(file)
	if ver == "" {
		ver = "unknown"
	}
	ver += devSuffix
	if bi == nil {
		return ver, ""
	}
	if m := bi.Main.Version; semver.IsValid(m) && semver.Build(m) == "" && !module.IsPseudoVersion(m) {
		ver = strings.TrimPrefix(m, "v")
	}
	for _, s := range bi.Settings {
		if s.Key != "vcs.time" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
			date = t.UTC().Format(buildDateLayout)
		}
	}
	return ver, date
}
