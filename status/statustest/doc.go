// Package statustest checks the exporter's status page in a real browser:
// Debian's chromium, driven by chromedp, loads the page of the real binary
// running against fake Vocode APIs. It is a module of its own so that
// chromedp stays out of the exporter's go.mod.
package statustest
