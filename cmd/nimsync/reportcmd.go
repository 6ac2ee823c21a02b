package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/nimsync/nimsync/report"
)

func cmdReport(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return exitUsage, usagef("report needs a subcommand: merge or compare")
	}
	switch args[0] {
	case "merge":
		return cmdMerge(args[1:], stdout, stderr)
	case "compare":
		return cmdCompare(args[1:], stdout, stderr)
	case "-h", "-help", "--help":
		fmt.Fprintln(stdout, "usage: nimsync report merge --out DIR DIR...\n       nimsync report compare [--alpha A] BASE CUR")
		return exitOK, nil
	}
	return exitUsage, usagef("unknown report subcommand %q: want merge or compare", args[0])
}

func cmdMerge(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync report merge", flag.ContinueOnError)
	out := fs.String("out", "", "directory for the merged report (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nimsync report merge --out DIR DIR...\n\nMerges the reports of the shards of one soak (same seed) into DIR, with\nthe failures' artifacts copied into DIR/artifacts/SHARD/.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if *out == "" || len(pos) == 0 {
		return exitUsage, usagef("report merge needs --out and at least one report directory")
	}
	for _, p := range pos {
		if _, err := report.Read(p); err != nil {
			return exitUsage, usageError{err.Error()}
		}
	}
	m, err := report.MergeDirs(*out, pos...)
	if errors.Is(err, report.ErrMerge) {
		return exitUsage, usageError{err.Error()}
	}
	if err != nil {
		return exitError, err
	}
	return summarize(context.Background(), m, nil, *out, stdout)
}

func cmdCompare(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync report compare", flag.ContinueOnError)
	alpha := fs.Float64("alpha", 0.05, "significance level of the Mann-Whitney U test")
	checkOnly := fs.Bool("check", false, "only check that the nights are comparable (same lane, shard count, scale and scenarios):\nexit 0 if they are, 2 saying why not")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nimsync report compare [--alpha A] BASE CUR\n\nCompares two soak reports (directories or report.json files) scenario by\nscenario; exits 1 when throughput or P99 latency regressed significantly, and\n2 when the nights measured different work (lane, shard count, scale or scenarios).\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 2 {
		return exitUsage, usagef("report compare takes two reports: BASE CUR")
	}
	if err := checkFlags(check{*alpha > 0 && *alpha < 1, "alpha", *alpha, "want a significance level in (0, 1) such as 0.05"}); err != nil {
		return exitUsage, err
	}
	base, err := report.Read(pos[0])
	if err != nil {
		return exitUsage, usageError{err.Error()}
	}
	cur, err := report.Read(pos[1])
	if err != nil {
		return exitUsage, usageError{err.Error()}
	}
	c, err := report.Compare(base, cur, *alpha)
	if err != nil {
		return exitUsage, usageError{err.Error()}
	}
	if *checkOnly {
		return exitOK, nil
	}
	fmt.Fprint(stdout, c.Markdown())
	if c.Regressed() {
		return exitFound, fmt.Errorf("a significant regression")
	}
	return exitOK, nil
}
