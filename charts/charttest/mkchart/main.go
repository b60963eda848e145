// Command mkchart writes what the Helm chart charts/vocode-exporter is
// made of and from:
//
//	mkchart generate -root ../..
//
// renders the rules and the dashboard into the chart's files/ (`make
// generate`), and
//
//	mkchart package -chart ../vocode-exporter -out DIR -version V -epoch N
//
// writes DIR/vocode-exporter-V.tgz, the same bytes for the same chart and
// SOURCE_DATE_EPOCH N (`make chart`, `make release`).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/vocode-exporter/vocode_exporter/charts/charttest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkchart:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: mkchart generate|package [flags]")
	}
	fs := flag.NewFlagSet("mkchart "+args[0], flag.ContinueOnError)
	switch args[0] {
	case "generate":
		root := fs.String("root", "../..", "the repository's root")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return charttest.Generate(*root)
	case "package":
		dir := fs.String("chart", "../vocode-exporter", "the chart's directory")
		out := fs.String("out", "", "directory to write the package into (created)")
		version := fs.String("version", "", "the release's version (the VERSION file); the chart's must be it")
		epoch := fs.Int64("epoch", -1, "SOURCE_DATE_EPOCH: the commit's time in Unix seconds, every member's time")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *out == "" || *version == "" || *epoch < 0 {
			return errors.New("package needs -out, -version and -epoch")
		}
		p, err := charttest.Package(*dir, *out, *version, time.Unix(*epoch, 0))
		if err != nil {
			return err
		}
		fmt.Printf(">> %s\n", p)
		return nil
	}
	return fmt.Errorf("unknown command %q: want generate or package", args[0])
}
