// Package release holds the checks for what ships beside the exporter's Go
// code: the release archives of `make release` (built twice and compared
// byte for byte, their contents and binaries inspected), the container image
// recipe (Dockerfile, .dockerignore), the version file, CHANGELOG.md and
// LICENSE, and the deployment examples under examples/.
//
// No Docker engine runs on the project's machines, so the tests check what can
// be checked without one: they read the Dockerfile with BuildKit's own parser,
// run its builder stage's exact `go build` command on a copy of the build
// context filtered by .dockerignore (with the Docker CLI's pattern matcher),
// and inspect the resulting ELF file. The examples are decoded and
// cross-checked, and the Prometheus configuration goes through promtool.
//
// This is a Go module of its own so that BuildKit and the other libraries the
// checks use stay out of the exporter's go.mod; `make test-release` runs it.
package release
