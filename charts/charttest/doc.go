// Package charttest renders, generates and packages the Helm chart in
// charts/vocode-exporter with Helm's own library (helm.sh/helm/v3), and its
// tests prove what the chart renders without a cluster: every object
// decodes strictly into the Kubernetes and Prometheus Operator types, the
// pod is hardened, the exporter accepts every argument, keys stay in the
// Secret, the rules and the scrape objects agree on the jobs.
//
// It is a Go module of its own so that Helm's, Kubernetes' and
// Prometheus' dependency trees stay out of the exporter's go.mod.
package charttest
