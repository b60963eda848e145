// Package release holds the checks for what ships beside the exporter's Go
// code: the container image recipe (Dockerfile, .dockerignore), the version
// file and the deployment examples under examples/.
//
// No Docker engine runs on the project's machines, so the tests check what can
// be checked without one: they parse the Dockerfile, run its builder stage's
// exact `go build` command on a copy of the build context filtered by
// .dockerignore, and inspect the resulting ELF file. The examples are decoded
// and cross-checked, and the Prometheus configuration goes through promtool.
package release
