// Command nimsync runs nimsync's stress scenarios and soaks, replays their
// failures, and merges and compares their reports.
//
// Usage:
//
//	nimsync list
//	nimsync run SCENARIO [--seed N] [--scale S] [--chaos] [--sched random|pct:D|swarm|swarm:LIST]
//	nimsync soak [--duration D] [--runs N] [--seed N] [--scenarios a,b] [--chaos=swarm|off] [--sched random|pct:D|swarm|swarm:LIST] [--out DIR] [--metrics-addr HOST:PORT] [--shard i/n] ...
//	nimsync repro ARTIFACT [--runs N]   or   nimsync repro --scenario X --seed N
//	nimsync report merge --out DIR DIR...
//	nimsync report compare [--alpha A] BASE CUR
//	nimsync night run --results DIR [flags] [-- SOAK-FLAGS]   or   nimsync night finish --results DIR [flags]
//	nimsync version
//
// Build it through scripts/nimsync, which compiles core with failpoints (its
// own GOCACHE) so that --chaos works; a plain `go build` gives a binary whose
// runs have no fault plans.
//
// Exit status: 0 when everything passed, 1 when a violation, stall, runaway,
// overrun or leak was found (or a failure reproduced, or a regression was
// detected), 2 on bad usage, 3 when the report could not be written, 130
// when interrupted by SIGINT and 143 by SIGTERM (the report then covers the
// runs done).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Exit codes.
const (
	exitOK    = 0
	exitFound = 1
	exitUsage = 2
	// exitError: the command could not tell (its report or an artifact
	// could not be written); neither a pass nor a found failure.
	exitError = 3
	// exitInterrupted is the shell's code for a process ended by SIGINT
	// (and 143 for SIGTERM: interrupted): an interrupted soak neither
	// passed nor found anything.
	exitInterrupted = 130
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// usageError is bad usage: main prints it and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usage = `nimsync: stress scenarios, soaks and failure replay for the nimsync runtime.

Usage:
  nimsync list                      the scenarios, one line each
  nimsync run SCENARIO [flags]      run one scenario once
  nimsync soak [flags]              run scenarios under fault plans for a duration
  nimsync repro ARTIFACT [flags]    replay a failure and report how often it reproduces
  nimsync report merge --out DIR DIR...
                                    merge the reports of shards
  nimsync report compare [--alpha A] BASE CUR
                                    compare two nights; exit 1 on a significant regression
  nimsync night run|finish --results DIR [flags]
                                    a pod of the Kubernetes night (a shard, then the finish), or
                                    the finish alone: merge, compare, delete old nights
  nimsync bench [--quick] [--out DIR] [--baseline FILE]   or   nimsync bench readme REPORT
                                    benchmark nimsync against its peers; exit 1 on a regression
  nimsync version                   the build: nimsync's version and commit, Go, failpoints

Run 'nimsync COMMAND --help' for a command's flags.
Exit status: 0 passed, 1 violation/stall/runaway/overrun/leak/regression
found, 2 bad usage, 3 the report could not be written, 130 or 143 interrupted
by SIGINT or SIGTERM (the report covers the runs done).
`

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	var code int
	switch cmd, rest := args[0], args[1:]; cmd {
	case "list":
		code, err = cmdList(rest, stdout, stderr)
	case "run":
		code, err = cmdRun(rest, stdout, stderr)
	case "soak":
		code, err = cmdSoak(rest, stdout, stderr)
	case "repro":
		code, err = cmdRepro(rest, stdout, stderr)
	case "report":
		code, err = cmdReport(rest, stdout, stderr)
	case "bench":
		code, err = cmdBench(rest, stdout, stderr)
	case "night":
		code, err = cmdNight(rest, stdout, stderr)
	case "version":
		code, err = cmdVersion(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usagef("unknown command %q", cmd)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "nimsync: %v (see '%s')\n", err, helpFor(args))
			return exitUsage
		}
		fmt.Fprintf(stderr, "nimsync: %v\n", err)
		if code == exitOK {
			code = exitFound
		}
	}
	return code
}

// helpFor names the help of the command args run: "nimsync soak --help",
// or "nimsync --help" for an unknown or missing one.
func helpFor(args []string) string {
	if len(args) > 0 {
		switch args[0] {
		case "list", "run", "soak", "repro", "bench", "version":
			return "nimsync " + args[0] + " --help"
		case "report":
			if len(args) > 1 && (args[1] == "merge" || args[1] == "compare") {
				return "nimsync report " + args[1] + " --help"
			}
		case "night":
			if len(args) > 1 && (args[1] == "run" || args[1] == "finish") {
				return "nimsync night " + args[1] + " --help"
			}
		}
	}
	return "nimsync --help"
}

// seedFlag is a uint64 seed flag that remembers whether it was set. Besides
// an integer it takes "date" (today's UTC date as YYYYMMDD, the nightly
// seed) and "date:YYYY-MM-DD" (that date so); see dateSeed.
type seedFlag struct {
	v   uint64
	set bool
}

func (s *seedFlag) String() string { return strconv.FormatUint(s.v, 10) }
func (s *seedFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		var ok bool
		if n, ok = dateSeed(v, time.Now()); !ok {
			return fmt.Errorf("malformed seed %q: want a non-negative integer, date (today's UTC date, YYYYMMDD) or date:YYYY-MM-DD", v)
		}
	}
	s.v, s.set = n, true
	return nil
}

// orClock returns the seed, or one from the clock when none was given.
func (s *seedFlag) orClock() uint64 {
	if !s.set {
		s.v = uint64(time.Now().UnixNano()) >> 1
	}
	return s.v
}

// parseShard parses "i/n".
func parseShard(v string) (int, int, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usagef("bad --shard %q: want i/n with 0 <= i < n", v)
	}
	return i, n, nil
}

// isTerminal reports whether w is a terminal (for the live display).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
