package mixin

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// committedPath is where the repository keeps a rendered file, relative to
// this package: the rule file in alerts/, the dashboards in dashboards/.
func committedPath(name string) string {
	if name == RulesFile {
		return filepath.Join("..", "alerts", name)
	}
	return filepath.Join("..", "dashboards", name)
}

// TestCommittedFilesAreRendered fails, naming the file, when a committed
// rule file or dashboard is not what the mixin renders with its defaults:
// someone edited the output instead of the mixin, or forgot make generate.
func TestCommittedFilesAreRendered(t *testing.T) {
	files, err := Render("")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{RulesFile, "vocode.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the mixin renders no %s", want)
		}
	}
	for name, rendered := range files {
		path := committedPath(name)
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run make generate)", path, err)
			continue
		}
		if !bytes.Equal(committed, rendered) {
			t.Errorf("%s differs from what mixin/ renders (%s): edit the mixin and run make generate\n%s",
				path, name, firstDifference(committed, rendered))
		}
	}
}

// firstDifference shows the first line where got and want part.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  committed: " + gl + "\n  rendered:  " + wl
		}
	}
	return "(they differ in their final newline)"
}

// TestRenderConfig shows the _config fields reaching the output; the
// dashboards module's tests prove every expression, and a real
// Prometheus, with such a configuration.
func TestRenderConfig(t *testing.T) {
	tests := []struct {
		name, config string
		file         string
		want, absent []string
	}{
		{
			name: "defaults", file: RulesFile,
			want: []string{
				`vocode_up{job="vocode"} == 0`,
				`up{job=~"vocode|vocode_exporter"} == 0`,
				"sum by (job, instance, account) (vocode_calls{job=\"vocode\", status=\"error\"})",
				") >= 0.1\n",
				"(threshold 10%, exporter",
				"for 10 minutes",
			},
			absent: []string{"cluster"},
		},
		{
			name:   "selectors",
			config: `{vocodeSelector: 'job="voc-accounts"', vocodeExporterSelector: 'job="voc-self"'}`,
			file:   RulesFile,
			want:   []string{`vocode_up{job="voc-accounts"} == 0`, `up{job="voc-self"} == 0`, `absent(up{job="voc-accounts"})`},
			absent: []string{`job="vocode"`, `job=~"vocode|vocode_exporter"`},
		},
		{
			name:   "threshold and duration",
			config: `{callErrorShareThreshold: 0.5, callErrorsHighFor: '1h', exporterDownFor: '1m'}`,
			file:   RulesFile,
			want:   []string{") >= 0.5\n", "(threshold 50%, exporter", "for 1 hour", `for: "1h"`, "for 1 minute,", `for: "1m"`},
			absent: []string{"(threshold 10%, exporter"},
		},
		{
			name:   "multi-cluster rules",
			config: `{showMultiCluster: true, clusterLabel: 'k8s_cluster'}`,
			file:   RulesFile,
			want:   []string{"sum by (k8s_cluster, job, instance, account, code)", "on (k8s_cluster, job, instance)"},
			absent: []string{"by (job", "on (job"},
		},
		{
			name:   "multi-cluster dashboard",
			config: `{showMultiCluster: true, dashboardUid: 'mine', grafanaRefresh: '5m'}`,
			file:   "vocode.json",
			want: []string{
				`"name": "cluster"`,
				`"query": "label_values(vocode_up{job=\"vocode\"}, cluster)"`,
				`vocode_up{job=\"vocode\", cluster=~\"$cluster\", job=~\"$job\"`,
				`"uid": "mine"`,
				`"refresh": "5m"`,
			},
		},
		{
			name: "single-cluster dashboard", file: "vocode.json",
			absent: []string{"$cluster"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Render(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			out := string(files[tc.file])
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s lacks %q", tc.file, w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out, a) {
					t.Errorf("%s holds %q", tc.file, a)
				}
			}
		})
	}
}

// A config that is not jsonnet, or names a field the mixin does not have,
// is an error that says what is wrong, not a panic or the defaults.
func TestRenderBadConfig(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{vocodeSelector: }`, "render the mixin"},
		{`{vocodeSelectr: 'job="x"', showMultiCluster: true}`, "unknown _config field(s) vocodeSelectr"},
		{`[1]`, "render the mixin"},
	} {
		_, err := Render(tc.config)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render(%s) = %v, want an error with %q", tc.config, err, tc.want)
		}
	}
}
