package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nimsync/nimsync/bench"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/internal/reportkit"
)

// benchCases lists the cases `nimsync bench` may run; tests replace it with
// a tiny list.
var benchCases = bench.Cases

// benchLineRTT is bench.Options.LineRTT: nil measures the cache-line round
// trip around each case's round; tests fix it, so that their rows are not
// split by a placement that changed during the test.
var benchLineRTT func() float64

// Defaults of `nimsync bench`, full and --quick. The quick benchtime pays
// for the warm-up round (a fifth of the benchtime per run) and the rows of
// the GOMAXPROCS sweep and the 4p4c and 16p16c MPMC: a quick run takes
// about as long as it did with 100 ms and without them.
const (
	benchRounds      = 5
	benchTime        = 200 * time.Millisecond
	benchQuickRounds = 3
	benchQuickTime   = 80 * time.Millisecond
	benchOutRoot     = "results/bench"
)

func cmdBench(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) > 0 && args[0] == "readme" {
		return cmdBenchReadme(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("nimsync bench", flag.ContinueOnError)
	var (
		quick     = fs.Bool("quick", false, "run only the quick cases, with fewer rounds and a shorter benchtime")
		out       = fs.String("out", "", "directory for report.md, report.json, raw.txt and the plots (default "+benchOutRoot+"/<UTC date>)")
		baseline  = fs.String("baseline", "", "compare with this report (a report.json or its directory); exit 1 on a significant regression")
		rounds    = fs.Int("rounds", 0, fmt.Sprintf("rounds: each implementation runs once per round (default %d, %d with --quick)", benchRounds, benchQuickRounds))
		benchtime = fs.Duration("benchtime", 0, fmt.Sprintf("target duration of one benchmark run (default %v, %v with --quick)", benchTime, benchQuickTime))
		alpha     = fs.Float64("alpha", 0.05, "significance level of the Mann-Whitney U test against --baseline")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: nimsync bench [--quick] [--out DIR] [--baseline FILE] [--rounds N] [--benchtime D] [--alpha A]
       nimsync bench readme REPORT [--readme README.md]

Measures nimsync against Go channels, go+WaitGroup, errgroup, conc, ants,
context and Workiva's RingBuffer in alternating rounds, and writes the report (report.md with tables,
verdicts and plots, report.json, raw.txt in benchstat format). A warm-up
round, not recorded, runs first; each case's round is classed by where the
host placed the vCPUs (near or far, by the cache-line round trip around it)
and every row is reported per placement. With --baseline, compares the
ratios to the baseline's, placement with placement, and exits 1 on a
significant regression. 'bench readme' rewrites the README's section between
<!-- bench:begin --> and <!-- bench:end --> from a report.

Flags:`)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("bench takes no arguments (got %q); the subcommand is 'nimsync bench readme REPORT'", pos[0])
	}
	if *rounds < 0 || *benchtime < 0 {
		return exitUsage, usagef("--rounds and --benchtime must not be negative")
	}
	if *benchtime > 0 && *benchtime < time.Millisecond {
		return exitUsage, usagef("--benchtime %v is too short to measure anything: use 1ms or more", *benchtime)
	}
	if !(*alpha > 0 && *alpha < 1) {
		return exitUsage, usagef("--alpha must be in (0, 1)")
	}
	if chaos.Available() {
		// Failpoint markers compile to real calls in this build: its
		// numbers would not be nimsync's.
		return exitUsage, usagef("bench measures a plain build, and this binary has failpoints: run 'scripts/nimsync bench' (it builds plain for bench) or 'go run ./cmd/nimsync bench'")
	}
	opts := bench.Options{Rounds: *rounds, BenchTime: *benchtime, LineRTT: benchLineRTT}
	if opts.Rounds == 0 {
		opts.Rounds = benchRounds
		if *quick {
			opts.Rounds = benchQuickRounds
		}
	}
	if opts.BenchTime == 0 {
		opts.BenchTime = benchTime
		if *quick {
			opts.BenchTime = benchQuickTime
		}
	}
	var base *bench.Report
	if *baseline != "" {
		if base, err = bench.ReadReport(*baseline); err != nil {
			return exitUsage, usagef("--baseline: %v", err)
		}
	}
	if base != nil && opts.Rounds < bench.MinCompareSamples {
		fmt.Fprintf(stderr, "bench: warning: --baseline judges a row with at least %d rounds on each side; with %d every row will be \"insufficient\" (pass --rounds %d)\n",
			bench.MinCompareSamples, opts.Rounds, bench.MinCompareSamples)
	}
	var cases []bench.Case
	impls := 0
	for _, c := range benchCases() {
		if !*quick || c.Quick {
			cases = append(cases, c)
			impls += len(c.Impls)
		}
	}
	if len(cases) == 0 {
		return exitUsage, usagef("no benchmark case to run")
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(benchOutRoot, time.Now().UTC().Format("2006-01-02"))
	}
	created, err := probeOut(dir)
	if err != nil {
		return exitUsage, err
	}
	written := false
	defer func() {
		if created && !written {
			_ = os.Remove(dir) // only if still empty
		}
	}()

	warm := opts.BenchTime / 5 // bench.Run's default
	est := time.Duration(float64(impls) * 1.3 * float64(time.Duration(opts.Rounds)*opts.BenchTime+warm)).Round(time.Second)
	fmt.Fprintf(stderr, "bench: %d cases, a warm-up round of %v then %d rounds of %v per benchmark (about %v); report to %s\n",
		len(cases), warm, opts.Rounds, opts.BenchTime, max(est, time.Second), dir)
	opts.Progress = func(round, rounds int, c *bench.Case, impl string, v float64) {
		fmt.Fprintf(stderr, "bench: round %d/%d  %-12s %s impl=%s: %s\n",
			round+1, rounds, c.Group, c.Name, impl, reportkit.Value(c.Metric, v))
	}

	ctx, stop := signalContext()
	defer stop()
	rep, err := bench.Run(ctx, cases, opts)
	switch {
	case errors.Is(err, context.Canceled):
		return interrupted(ctx), errors.New("interrupted; no report written")
	case err != nil:
		return exitError, fmt.Errorf("%w; no report written", err)
	}
	rep.Quick = *quick
	var raw bytes.Buffer
	if err := bench.WriteRaw(&raw, rep); err != nil {
		return exitError, err
	}
	if err := bench.WriteReport(dir, rep, raw.Bytes()); err != nil {
		return exitError, err
	}
	written = true
	fmt.Fprintf(stdout, "report: %s\n\n%s", filepath.Join(dir, bench.MarkdownFile), bench.ReadmeTable(rep))
	if base == nil {
		return exitOK, nil
	}
	c := bench.Compare(base, rep, *alpha)
	fmt.Fprintf(stdout, "\n%s", c.Markdown())
	if c.Regressed() {
		return exitFound, fmt.Errorf("a significant regression against %s", *baseline)
	}
	return exitOK, nil
}

// probeOut makes sure dir can be created and written before a run starts,
// so a long run never ends unable to report. It reports whether it created
// dir (the caller removes it again if the run writes nothing).
func probeOut(dir string) (created bool, err error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, usagef("--out: %v", err)
	}
	f, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		if created {
			_ = os.Remove(dir)
		}
		return false, usagef("--out: %v", err)
	}
	f.Close()
	return created, os.Remove(f.Name())
}

func cmdBenchReadme(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync bench readme", flag.ContinueOnError)
	readme := fs.String("readme", "README.md", "the README whose generated section to replace")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nimsync bench readme REPORT [--readme README.md]\n\n"+
			"Replaces the text between the lines %s and %s of the README\nwith the headline table of REPORT (a report.json or its directory).\n\nFlags:\n",
			bench.ReadmeBegin, bench.ReadmeEnd)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 1 {
		return exitUsage, usagef("bench readme takes one report: a report.json or its directory")
	}
	rep, err := bench.ReadReport(pos[0])
	if err != nil {
		return exitUsage, usageError{err.Error()}
	}
	old, err := os.ReadFile(*readme)
	if err != nil {
		return exitUsage, usagef("--readme: %v", err)
	}
	doc, err := bench.SpliceReadme(old, bench.ReadmeTable(rep))
	if err != nil {
		return exitUsage, usagef("%s: %v", *readme, err)
	}
	if bytes.Equal(doc, old) {
		fmt.Fprintf(stdout, "%s: already up to date with %s\n", *readme, pos[0])
		return exitOK, nil
	}
	if err := replaceFile(*readme, doc); err != nil {
		return exitError, err
	}
	fmt.Fprintf(stdout, "%s: performance section regenerated from %s\n", *readme, pos[0])
	return exitOK, nil
}

// replaceFile replaces path's contents with data through a temporary file
// in its directory and a rename, keeping its mode: a reader sees the old
// file or the new one, never half of one.
func replaceFile(path string, data []byte) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tf, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tf.Name())
		}
	}()
	_, err = tf.Write(data)
	if err == nil {
		err = tf.Chmod(fi.Mode().Perm())
	}
	if err == nil {
		err = tf.Sync()
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tf.Name(), path)
}
