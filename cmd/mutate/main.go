// Command mutate is nimsync's mutation-testing lane: it measures how much
// of core the harness really checks. It applies operator mutations to
// core's source one at a time (package internal/mutation lists the
// operators and what is never mutated), builds each mutant out of tree in
// the chaos build (failpoint-toolexec, -tags chaos, go's -overlay over a
// snapshot of the module, so the tree itself is never touched), runs the
// chaos property suite against it with a fixed seed and a short budget and
// then a short chaos soak of the scenarios, all within a hard budget per
// mutant, and reports each mutant killed, survived, timed out or not
// compiled, with the score killed / (killed + survived).
//
// Usage:
//
//	go run ./cmd/mutate [flags]        (scripts/mutation runs it)
//	go run ./cmd/mutate --list [flags] (the selected mutants, not run)
//
// The lane runs nightly (scripts/mutation, deploy/), not in CI's test run.
//
// Exit status: 0 the lane ran (and the score is at least --min-score), 1
// the score is below --min-score, 2 bad usage, 3 the lane could not
// measure (the unmutated snapshot does not build or does not pass its own
// run, or the report could not be written), 130 interrupted (the report
// covers the mutants finished).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nimsync/nimsync/internal/mutation"
)

// Exit codes, as the nimsync command's.
const (
	exitOK          = 0
	exitLow         = 1
	exitUsage       = 2
	exitError       = 3
	exitInterrupted = 130
)

// excludedFiles are never mutated (path.Match patterns): the failpoint
// table, the planted-bug switches, the tuning tables (knobs a fault plan
// sets; no invariant depends on their values) and the serialized mode's
// seam (step.go: aliases and empty markers in the plain builds the lane
// runs).
var excludedFiles = []string{"core/failpoints.go", "core/planted*.go", "core/tuning*.go", "core/step*.go"}

// defaultSkip are the property-suite tests a mutant is not run against:
// the self-test (minutes per planted bug), the tests of the harness's own
// machinery (its watchdog, its checker against a fake queue, its
// shrinkers) and the static rule table.
const defaultSkip = `^Test(SelfTestCatchesPlantedBugs|Watchdog.*|BoundedCutsAnEpisode|RulesTable|LinearizabilityCheckBites|ShrinkingFindsSmallEpisode|ShrinkTree|UndecidedIsNotShrunk)$`

// config is the lane's parameters, from the flags.
type config struct {
	files          []string
	lines          []mutation.LineRange
	ops            []mutation.Operator
	sel            mutation.Selection
	jobs           int
	budget         time.Duration
	chaosSeed      uint64
	propertyBudget time.Duration
	skip           string
	soakDuration   time.Duration
	soakScale      float64
	rev            string
	equivalents    string // a file, or "" for the built-in list
	runEquivalents bool
	minScore       float64 // -1: none
	out, work      string
	list           bool
	baselineRuns   int
	verbose        bool
	args           []string // the command line, for the report
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "mutate: %v (see --help)\n", err)
		return exitUsage
	}
	cfg.args = args
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runLane(ctx, root, cfg, stdout, stderr)
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mutate [flags]\n\nApplies operator mutations to core one at a time, builds each out of tree in the chaos build,\n"+
			"runs the property suite and a chaos soak against it, and reports the mutation score.\n"+
			"Exit: 0 ran, 1 score below --min-score, 2 bad usage, 3 could not measure, 130 interrupted.\n\nFlags:")
		fs.PrintDefaults()
	}
	files := fs.String("files", "core/*.go", "comma-separated files or globs, relative to the module root (tests, "+strings.Join(excludedFiles, ", ")+" are never mutated)")
	lines := fs.String("lines", "", "only mutants on these lines: comma-separated LO-HI, N, FILE:LO-HI or FILE:N")
	ops := fs.String("ops", "default", "operators, comma-separated (all, default, or names: "+fmt.Sprint(mutation.Operators)+")")
	fs.IntVar(&c.sel.Max, "max-mutants", 0, "run a seeded sample of at most N mutants (0: all)")
	seed := fs.Uint64("seed", 1, "the sampling seed")
	shard := fs.String("shard", "", "run only shard i/n of the (sampled) mutants")
	fs.IntVar(&c.jobs, "jobs", 1, "mutants built and run at once")
	fs.DurationVar(&c.budget, "budget", 4*time.Minute, "hard limit per mutant, for its builds, properties and soak (then: timed out)")
	fs.Uint64Var(&c.chaosSeed, "chaos-seed", 42, "the seed of the property suite (NIMSYNC_SEED) and of the soak")
	fs.DurationVar(&c.propertyBudget, "property-budget", 2*time.Second, "NIMSYNC_BUDGET: how long each property draws new seeds after its first run")
	fs.StringVar(&c.skip, "skip", defaultSkip, "property-suite tests not run (go test -skip)")
	fs.DurationVar(&c.soakDuration, "soak-duration", 20*time.Second, "the chaos soak's --duration per mutant (0: no soak)")
	fs.Float64Var(&c.soakScale, "soak-scale", 0.05, "the chaos soak's --scale")
	fs.StringVar(&c.rev, "rev", "", "measure this commit (git archive) instead of the working tree")
	fs.StringVar(&c.equivalents, "equivalents", "", "the equivalents list (default: internal/mutation/equivalents.txt, built in)")
	fs.BoolVar(&c.runEquivalents, "run-equivalents", false, "run the listed equivalents too (to check that they still survive)")
	minScore := fs.String("min-score", "", "exit 1 if the score is below this (a fraction like 0.8 or a percentage like 80%)")
	fs.StringVar(&c.out, "out", "results/mutation", "directory for report.json and report.md")
	fs.StringVar(&c.work, "work", defaultWork(), "directory for the snapshot, the build cache, the binaries and the logs (outside the checkout, so that grep sees one copy of the sources)")
	fs.BoolVar(&c.list, "list", false, "print the selected mutants and exit, running none")
	fs.IntVar(&c.baselineRuns, "baseline-runs", 1, "runs of the unmutated snapshot that must pass first")
	fs.BoolVar(&c.verbose, "v", false, "print each command")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.files = splitList(*files)
	if len(c.files) == 0 {
		return c, errors.New("--files is empty")
	}
	var err error
	if *lines != "" {
		if c.lines, err = mutation.ParseLines(*lines); err != nil {
			return c, fmt.Errorf("--lines: %w", err)
		}
	}
	if c.ops, err = mutation.ParseOperators(*ops); err != nil {
		return c, fmt.Errorf("--ops: %w", err)
	}
	c.sel.Seed, c.sel.Lines = *seed, c.lines
	if *shard != "" {
		i, n, ok := strings.Cut(*shard, "/")
		c.sel.Shard, err = strconv.Atoi(i)
		var err2 error
		c.sel.Shards, err2 = strconv.Atoi(n)
		if !ok || err != nil || err2 != nil || c.sel.Shards < 1 || c.sel.Shard < 0 || c.sel.Shard >= c.sel.Shards {
			return c, fmt.Errorf("--shard must be i/n with 0 <= i < n, got %q", *shard)
		}
	}
	switch {
	case c.sel.Max < 0:
		return c, errors.New("--max-mutants must be >= 0")
	case c.jobs < 1:
		return c, errors.New("--jobs must be >= 1")
	case c.budget <= 0:
		return c, errors.New("--budget must be positive")
	case c.propertyBudget < 0 || c.soakDuration < 0:
		return c, errors.New("--property-budget and --soak-duration must be >= 0")
	case c.soakScale <= 0 || c.soakScale > 1:
		return c, errors.New("--soak-scale must be in (0, 1]")
	case c.baselineRuns < 0:
		return c, errors.New("--baseline-runs must be >= 0")
	}
	if _, err := regexp.Compile(c.skip); err != nil {
		return c, fmt.Errorf("--skip: %w", err)
	}
	c.minScore = -1
	if s := strings.TrimSpace(*minScore); s != "" {
		pct := strings.HasSuffix(s, "%")
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if pct {
			v /= 100
		}
		if err != nil || v < 0 || v > 1 {
			return c, fmt.Errorf("--min-score must be a fraction in [0, 1] or a percentage, got %q", s)
		}
		c.minScore = v
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, filepath.ToSlash(p))
		}
	}
	return out
}

// moduleRoot is the directory of the nearest go.mod at or above the
// working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory: run mutate in the nimsync module")
		}
		dir = parent
	}
}

// defaultWork is the lane's work directory when --work is not given: one
// per checkout (named after the working directory and a checksum of its
// path) under the user's cache directory, or under the system's temporary
// directory if there is none. scripts/mutation passes scripts/cachedir's.
func defaultWork() string {
	wd, err := os.Getwd()
	if err != nil {
		wd = "nimsync"
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "nimsync", fmt.Sprintf("%s-%08x", filepath.Base(wd), crc32.ChecksumIEEE([]byte(wd))), "mutation")
}
