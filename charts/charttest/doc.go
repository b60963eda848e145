// Package charttest renders, generates and packages the Helm chart in
// charts/vocode-exporter with Helm's own library (helm.sh/helm/v3), and its
// tests prove what the chart renders without a cluster: every object
// decodes strictly into the Kubernetes and Prometheus Operator types, the
// pod is hardened, the exporter accepts every argument, keys stay in the
// Secret, the rules and the scrape objects agree on the jobs.
//
// Helm 3's library (v3.21.4) rather than Helm 4's: the chart is a Helm 3
// chart (apiVersion v2), which Helm 3 and Helm 4 both install, and Helm 3
// is what most clusters are still managed with; rendering with the older of
// the two engines keeps the chart to what both accept. Its values are
// checked against values.schema.json by Helm 3's own validation, the step
// `helm install` and `helm template` take.
//
// It is a Go module of its own so that Helm's, Kubernetes' and
// Prometheus' dependency trees stay out of the exporter's go.mod.
package charttest
