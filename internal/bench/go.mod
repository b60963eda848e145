module github.com/vocode-exporter/vocode_exporter/internal/bench

go 1.26.8

replace github.com/vocode-exporter/vocode_exporter => ../..

require github.com/vocode-exporter/vocode_exporter v0.0.0-00010101000000-000000000000
