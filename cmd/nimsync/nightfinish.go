package main

// nimsync night finish: merge tonight's shards, compare with the last
// comparable earlier night, prune old nights.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nimsync/nimsync/report"
)

// finishConfig is what finishing a night needs.
type finishConfig struct {
	Results string // the directory of nights
	Night   string // this night's directory, inside Results
	// Shards is the night's shard count: a shard 0..Shards-1 without a
	// report fails the night. 0: merge whatever shard-*/ holds.
	Shards int
	// KeepDays keeps the nights of the KeepDays days before this night's
	// date; older ones are deleted. 0 keeps every night.
	KeepDays int
	Alpha    float64 // the comparison's significance level
}

func cmdNightFinish(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync night finish", flag.ContinueOnError)
	c := finishConfig{}
	fs.StringVar(&c.Results, "results", "", "the directory of nights, YYYY-MM-DD[-N] (required)")
	fs.StringVar(&c.Night, "night", "", "this night's directory name in --results (default: the latest night)")
	fs.IntVar(&c.Shards, "shards", 0, "the night's shard count; a missing shard fails the night (0: merge what is there)")
	fs.IntVar(&c.KeepDays, "keep-days", 0, "delete nights more than this many days older than this night (0: keep all)")
	fs.Float64Var(&c.Alpha, "alpha", 0.05, "significance level of the comparison's Mann-Whitney U test")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: nimsync night finish --results DIR [--night NAME] [--shards N] [--keep-days N]

Merges the shard reports of a night (NIGHT/shard-*/report.json) into NIGHT,
compares it with the latest earlier comparable night in DIR (written to
NIGHT/compare.md), and deletes nights older than --keep-days. Exits 1 when
a shard found a violation, leak or stall, a shard is missing, or the
comparison found a significant regression.

Flags:`)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("night finish takes no arguments (got %q)", pos[0])
	}
	if err := checkFlags(
		check{c.Results != "", "results", `""`, "want the directory of nights"},
		check{c.Shards >= 0, "shards", c.Shards, "want a shard count of 0 or more"},
		check{c.KeepDays >= 0, "keep-days", c.KeepDays, "want a number of days of 0 or more (0: keep all)"},
		check{c.Alpha > 0 && c.Alpha < 1, "alpha", c.Alpha, "want a significance level in (0, 1) such as 0.05"},
	); err != nil {
		return exitUsage, err
	}
	if c.Night == "" {
		nights, err := listNights(c.Results)
		if err != nil {
			return exitUsage, usagef("--results: %v", err)
		}
		if len(nights) == 0 {
			return exitUsage, usagef("no night (YYYY-MM-DD[-N]) in %s", c.Results)
		}
		c.Night = nights[len(nights)-1].name
	}
	if _, ok := parseNight(c.Night); !ok {
		return exitUsage, usagef("bad --night %q: want a night's directory name, YYYY-MM-DD[-N]", c.Night)
	}
	c.Night = filepath.Join(c.Results, c.Night)
	return finishNight(c, stdout)
}

// finishNight merges the night's shards, compares it with the baseline and
// prunes; it returns the exit code: exitFound when the night failed (a
// shard found something, is missing, or the night regressed).
func finishNight(c finishConfig, stdout io.Writer) (int, error) {
	var parts []string // the shard directories holding a report
	var missing []string
	dirs, err := shardDirs(c.Night, c.Shards)
	if err != nil {
		return exitError, err
	}
	for _, d := range dirs {
		if _, err := report.Read(d); err != nil {
			missing = append(missing, filepath.Base(d))
			fmt.Fprintf(stdout, "night: %s left no report (%v); the merge leaves it out\n", filepath.Base(d), firstLine(err.Error()))
			continue
		}
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		return exitFound, fmt.Errorf("night %s: no shard wrote a report", c.Night)
	}
	// MergeDirs keeps the shards' detail: their failures' artifacts are
	// copied into the night's directory, each failure names its shard.
	merged, err := report.MergeDirs(c.Night, parts...)
	switch {
	case errors.Is(err, report.ErrMerge):
		return exitFound, fmt.Errorf("night %s: %w", c.Night, err)
	case err != nil:
		return exitError, err
	}
	fmt.Fprintf(stdout, "night: %d shard reports merged into %s\n", len(parts), c.Night)
	code, verr := summarize(context.Background(), merged, nil, c.Night, stdout)
	var errs []error
	if verr != nil || code != exitOK {
		errs = append(errs, fmt.Errorf("the night failed (exit %d)", code))
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("no report from %s", strings.Join(missing, ", ")))
	}

	regressed, err := compareWithBaseline(c, merged, stdout)
	switch {
	case err != nil:
		errs = append(errs, err)
	case regressed:
		errs = append(errs, errors.New("a significant regression against the baseline night (see "+filepath.Join(c.Night, compareFile)+")"))
	}
	if err := pruneNights(c, stdout); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		fmt.Fprintf(stdout, "night FAILED: %s\n", c.Night)
		return exitFound, errors.Join(errs...)
	}
	fmt.Fprintf(stdout, "night passed: %s\n", c.Night)
	return exitOK, nil
}

// shardDirs lists a night's shard directories: shard-0 .. shard-(n-1), or
// with n 0 every shard-* there is.
func shardDirs(night string, n int) ([]string, error) {
	if n > 0 {
		out := make([]string, n)
		for i := range out {
			out[i] = shardDir(night, i)
		}
		return out, nil
	}
	return filepath.Glob(filepath.Join(night, "shard-*[0-9]"))
}

// compareWithBaseline compares cur, the night c.Night, with the latest
// earlier comparable night holding a report.json, writing the comparison
// to c.Night/compare.md. With no such night it says so and returns false.
func compareWithBaseline(c finishConfig, cur *report.Report, stdout io.Writer) (bool, error) {
	mine, _ := parseNight(filepath.Base(c.Night))
	nights, err := listNights(c.Results)
	if err != nil {
		return false, err
	}
	for i := len(nights) - 1; i >= 0; i-- {
		n := nights[i]
		if !n.key.less(mine) {
			continue
		}
		base, err := report.Read(filepath.Join(c.Results, n.name))
		if err != nil {
			continue // no report (a night that never merged) or an old schema
		}
		if why := incomparable(base, cur); why != "" {
			fmt.Fprintf(stdout, "night: %s is not comparable (%s); looking further back\n", n.name, why)
			continue
		}
		cmp, err := report.Compare(base, cur, c.Alpha)
		if errors.Is(err, report.ErrUnlike) {
			fmt.Fprintf(stdout, "night: %s is not comparable (%v); looking further back\n", n.name, err)
			continue
		}
		if err != nil {
			return false, err
		}
		md := fmt.Sprintf("Compared with the night %s.\n\n%s", n.name, cmp.Markdown())
		if err := os.WriteFile(filepath.Join(c.Night, compareFile), []byte(md), 0o644); err != nil {
			return false, err
		}
		fmt.Fprint(stdout, md)
		return cmp.Regressed(), nil
	}
	fmt.Fprintf(stdout, "night: no earlier comparable night with a report.json in %s: comparison skipped\n", c.Results)
	return false, nil
}

// incomparable says why base did not measure the setup cur did, or "" when
// it did: the same chaos mode and build, serialized mode, scenarios, scale,
// shard count and machine (its CPU, cores, GOMAXPROCS and platform; a Go
// upgrade stays comparable, and the comparison notes it).
//
// Beyond these, report.Compare refuses (report.ErrUnlike) nights of other
// lanes, shard counts, scales or scenario sets, which the loop skips too.
// Fields an older report lacks compare as equal, as ScenarioSet and Scale
// do; the commit and the duration differ from night to night by design
// (the comparison notes a new duration).
func incomparable(base, cur *report.Report) string {
	bm, cm := base.Machine, cur.Machine
	switch {
	case base.Chaos != cur.Chaos || base.ChaosBuild != cur.ChaosBuild:
		return fmt.Sprintf("chaos %s (failpoints %t) against %s (failpoints %t)", base.Chaos, base.ChaosBuild, cur.Chaos, cur.ChaosBuild)
	case base.Lane != cur.Lane:
		return fmt.Sprintf("lane %q against %q", base.Lane, cur.Lane)
	case base.Sched != cur.Sched:
		return fmt.Sprintf("serialized mode %q against %q", base.Sched, cur.Sched)
	case len(base.ScenarioSet) > 0 && len(cur.ScenarioSet) > 0 && !slices.Equal(base.ScenarioSet, cur.ScenarioSet):
		return "other scenarios"
	case base.Scale != 0 && cur.Scale != 0 && base.Scale != cur.Scale:
		return fmt.Sprintf("scale %g against %g", base.Scale, cur.Scale)
	case shardCount(base) != shardCount(cur):
		return fmt.Sprintf("%d shards against %d", shardCount(base), shardCount(cur))
	case bm.CPU != cm.CPU || bm.Cores != cm.Cores || bm.GOMAXPROCS != cm.GOMAXPROCS || bm.OS != cm.OS || bm.Arch != cm.Arch:
		return fmt.Sprintf("machine %s against %s", bm.Line(), cm.Line())
	}
	return ""
}

// shardCount is n of the "i/n" shards a report covers (0 if it names none).
func shardCount(r *report.Report) int {
	if r.ShardCount > 0 {
		return r.ShardCount
	}
	for _, s := range r.Shards {
		var i, n int
		if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err == nil {
			return n
		}
	}
	return 0
}

// night is a night's directory in a results directory.
type night struct {
	name string
	key  nightKey
}

// listNights lists the nights in results, oldest first.
func listNights(results string) ([]night, error) {
	entries, err := os.ReadDir(results)
	if err != nil {
		return nil, err
	}
	var out []night
	for _, e := range entries {
		if k, ok := parseNight(e.Name()); ok && e.IsDir() {
			out = append(out, night{e.Name(), k})
		}
	}
	slices.SortFunc(out, func(a, b night) int {
		switch {
		case a.key.less(b.key):
			return -1
		case b.key.less(a.key):
			return 1
		}
		return 0
	})
	return out, nil
}

// pruneNights deletes the nights dated more than c.KeepDays days before
// this night's date (by their names, not their files' times).
func pruneNights(c finishConfig, stdout io.Writer) error {
	if c.KeepDays == 0 {
		return nil
	}
	mine, _ := parseNight(filepath.Base(c.Night))
	cutoff := mine.date.AddDate(0, 0, -c.KeepDays)
	nights, err := listNights(c.Results)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range nights {
		if !n.key.date.Before(cutoff) {
			break
		}
		if err := os.RemoveAll(filepath.Join(c.Results, n.name)); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "night: deleted %s (older than %d days)\n", n.name, c.KeepDays)
	}
	return errors.Join(errs...)
}
