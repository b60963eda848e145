package charttest

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

// Release is the release the tests install: its name is the chart's, so
// that the objects are named vocode-exporter as the README shows.
var Release = chartutil.ReleaseOptions{Name: "vocode-exporter", Namespace: "monitoring", IsInstall: true}

// Manifest is one rendered object: the template it came from and its YAML.
type Manifest struct {
	Template string
	YAML     string
	Kind     string
	Name     string
}

// LoadChart loads the chart directory as `helm install DIR` does (the
// .helmignore applies).
func LoadChart(dir string) (*chart.Chart, error) {
	c, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	return c, nil
}

// ReadValues reads a values file as `helm install -f FILE` does.
func ReadValues(file string) (map[string]any, error) {
	v, err := chartutil.ReadValuesFile(file)
	if err != nil {
		return nil, err
	}
	return v.AsMap(), nil
}

// Render renders the chart with the user's values as `helm template` does
// for Release: the values are coalesced with the chart's, checked against
// values.schema.json, and each template rendered and split into objects,
// in the order of their template and place in it.
func Render(c *chart.Chart, values map[string]any) ([]Manifest, error) {
	vals, err := chartutil.ToRenderValues(c, values, Release, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(c, vals)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []Manifest
	for _, name := range names {
		if path.Ext(name) != ".yaml" || strings.HasPrefix(path.Base(name), "_") {
			continue // NOTES.txt, helpers
		}
		docs := releaseutil.SplitManifests(files[name])
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, k := range keys {
			doc := docs[k]
			var head struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return nil, fmt.Errorf("%s: %w\n%s", name, err, doc)
			}
			if head.Kind == "" {
				continue // a document of comments only
			}
			out = append(out, Manifest{Template: name, YAML: doc, Kind: head.Kind, Name: head.Metadata.Name})
		}
	}
	return out, nil
}
