module github.com/vocode-exporter/vocode_exporter/status/statustest

go 1.26.8

replace github.com/vocode-exporter/vocode_exporter => ../..

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/vocode-exporter/vocode_exporter v0.0.0-00010101000000-000000000000
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v1.27.2 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)
