// Command schemagen writes config.Schema() to a file; run by `go generate ./internal/config`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/adofleet/adofleet/internal/config"
)

func main() {
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "schemagen: -o FILE is required")
		os.Exit(2)
	}
	if err := os.WriteFile(*out, config.Schema(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
