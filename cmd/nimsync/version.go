package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/soak"
)

// cmdVersion prints the build: nimsync's module version, the commit it was
// built from (with "+dirty" for a modified tree), the commit's time, the Go
// version and platform, and whether failpoints are compiled in (the build
// of scripts/nimsync) or not (a plain go build).
func cmdVersion(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync version", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nimsync version\n\nPrints nimsync's version, the commit it was built from, the Go version and\nwhether failpoints (fault plans) are compiled in.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("version takes no arguments (got %q)", pos[0])
	}
	fmt.Fprintln(stdout, versionLine())
	return exitOK, nil
}

// versionLine is one line: "nimsync (devel) commit 1a2b3c4d5e6f+dirty
// (2026-12-07T21:20:00Z), go1.26.8 linux/amd64, failpoints on".
func versionLine() string {
	b := soak.BuildInfo()
	version, commit := cmp.Or(b.Version, "(devel)"), b.Short()
	if b.CommitTime != "" {
		commit += " (" + b.CommitTime + ")"
	}
	fp := "off (plain build: no fault plans)"
	if chaos.Available() {
		fp = "on"
	}
	return fmt.Sprintf("nimsync %s commit %s, %s %s/%s, failpoints %s", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH, fp)
}
