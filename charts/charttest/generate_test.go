package charttest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFiles: the chart's files/ are what `make generate` writes
// from the sources now.
func TestGeneratedFiles(t *testing.T) {
	files, err := ChartFiles()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(chartDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s/%s is not what `make generate` writes from the sources: run make generate", ChartDir, name)
		}
	}
}
