package charttest

import (
	"fmt"
	"path/filepath"
	"testing"
)

func TestTmpRender(t *testing.T) {
	c, err := LoadChart("../vocode-exporter")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../vocode-exporter/ci/*.yaml")
	for _, f := range files {
		v, err := ReadValues(f)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := Render(c, v)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		fmt.Println("=====", f)
		for _, m := range ms {
			if m.Kind == "PrometheusRule" || m.Name == "vocode-exporter-dashboard" {
				fmt.Println("---", m.Kind, len(m.YAML))
				continue
			}
			fmt.Println("---\n" + m.YAML)
		}
	}
}
