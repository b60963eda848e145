package charttest

import (
	"testing"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
