package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/nimsync/nimsync/scenarios"
)

func cmdList(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync list", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: nimsync list\n\nPrints the scenarios, one line each.") }
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("list takes no arguments")
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, s := range scenarios.All {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Summary)
	}
	return exitOK, tw.Flush()
}
