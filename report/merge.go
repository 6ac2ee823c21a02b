package report

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Merge joins the shard reports of one soak into one report. It does not
// modify its arguments nor share slices with them, and the result does not
// depend on the order of rs. It costs O(n log n) in the total number of
// runs and samples, and may be called concurrently.
//
// It returns an error when rs is empty or holds nil, when a report has a
// schema other than 0 (not yet written), [SchemaVersion] or one of
// [OldSchemaVersions], names no shard, or when the reports disagree on
// what the soak was: Seed, Chaos, ChaosBuild, Sched, ScenarioSet, Scale,
// ShardCount, Lane, or the commit of Build (where both recorded one), or
// when two reports cover the same shard.
//
// The merged report has:
//
//  1. Shards: all shards, sorted by shard index ("2/8" before "10/8").
//  2. Runs, Failures: concatenated, in shard order; each failure keeps the
//     shard that found it (Failure.Shard; filled in from a one-shard
//     report of schema 1, which did not record it).
//  3. Runtime: concatenated and sorted by T (stable), each sample keeping
//     its shard (RuntimeSample.Shard, filled in likewise): one series per
//     process, which the page plots as one line per shard.
//  4. Scenarios: one per name, in order of first appearance. Runs,
//     Failures, Ops and Seconds are summed and OpsPerSec is recomputed as
//     Ops/Seconds. Samples are concatenated and sorted by T, each still one
//     shard's interval.
//  5. Scenario latency: when every shard that measured any (Count > 0)
//     stored its HDR histogram (LatencyHDR, schema 2), the histograms are
//     merged and the percentiles are those of the union, exact at the
//     histograms' precision (3 significant digits). Otherwise (a schema 1
//     shard) each percentile is the maximum over the shards and Count the
//     sum: the true percentile of the union lies between the shards'
//     smallest and largest value of it, so that is an upper bound, exact
//     for Max and when one shard dominates; it never hides a slow shard.
//  6. Leak: OK only if every shard's is; the slopes are the largest (worst)
//     of the shards, the tolerances the smallest, Samples the sum, and the
//     notes are kept, each prefixed by its shard.
//  7. Strategies (a swarm's): recounted from the merged runs and failures
//     (StrategiesOf), every strategy a shard listed kept.
//  8. Passed: all passed. Elapsed and Duration: the largest. Started:
//     the earliest. Tool, Machine, Build and RunsBound: those of the first
//     shard (the schema holds one machine).
//  9. Flags: those every shard had with the same value (the shard's own,
//     such as --shard and --out, differ and are dropped).
func Merge(rs ...*Report) (_ *Report, err error) {
	defer func() {
		if err != nil {
			err = mergeError{err}
		}
	}()
	if len(rs) == 0 {
		return nil, fmt.Errorf("report: Merge of no reports")
	}
	for i, r := range rs {
		if r == nil {
			return nil, fmt.Errorf("report: Merge: report %d is nil", i)
		}
		if r.Schema != 0 && r.Schema != SchemaVersion && !slices.Contains(OldSchemaVersions, r.Schema) {
			return nil, fmt.Errorf("%w: Merge: report %d has schema %d, this package knows %d and %v", ErrSchema, i, r.Schema, SchemaVersion, OldSchemaVersions)
		}
		if len(r.Shards) == 0 {
			return nil, fmt.Errorf("report: Merge: report %d (seed %d) names no shard", i, r.Seed)
		}
	}

	// Work in shard order so the result does not depend on argument order.
	type shardReport struct {
		*Report
		shards []string // r.Shards, sorted (a copy)
	}
	in := make([]shardReport, len(rs))
	for i, r := range rs {
		in[i] = shardReport{r, slices.SortedFunc(slices.Values(r.Shards), compareShards)}
	}
	slices.SortStableFunc(in, func(a, b shardReport) int { return compareShards(a.shards[0], b.shards[0]) })

	first := in[0]
	out := &Report{
		Schema:      SchemaVersion,
		Tool:        first.Tool,
		Started:     first.Started,
		Machine:     first.Machine,
		Seed:        first.Seed,
		Chaos:       first.Chaos,
		ChaosBuild:  first.ChaosBuild,
		Sched:       first.Sched,
		ScenarioSet: first.ScenarioSet,
		Scale:       first.Scale,
		Build:       first.Build,
		RunsBound:   first.RunsBound,
		ShardCount:  first.ShardCount,
		Lane:        first.Lane,
		Flags:       maps.Clone(first.Flags),
		Passed:      true,
		Leak:        Leak{OK: true},
	}
	owner := map[string]string{}  // shard → the shards of the report naming it
	byName := map[string]int{}    // scenario name → index in out.Scenarios
	hdrs := map[string][]string{} // scenario name → the shards' LatencyHDR (point 5)
	var notes []string
	for i, r := range in {
		who := strings.Join(r.shards, ",")
		switch {
		case r.Seed != first.Seed:
			return nil, fmt.Errorf("report: Merge: shards %s have seed %d, shards %s have seed %d; shards of one soak share its seed",
				strings.Join(first.shards, ","), first.Seed, who, r.Seed)
		case r.Chaos != first.Chaos || r.ChaosBuild != first.ChaosBuild || r.Sched != first.Sched:
			return nil, fmt.Errorf("report: Merge: shards %s ran chaos %q (failpoint build %t, sched %q), shards %s chaos %q (failpoint build %t, sched %q)",
				strings.Join(first.shards, ","), first.Chaos, first.ChaosBuild, first.Sched, who, r.Chaos, r.ChaosBuild, r.Sched)
		case !slices.Equal(r.ScenarioSet, first.ScenarioSet) || r.Scale != first.Scale:
			return nil, fmt.Errorf("report: Merge: shards %s ran scenarios %v at scale %g, shards %s ran %v at scale %g; shards of one soak share them",
				strings.Join(first.shards, ","), first.ScenarioSet, first.Scale, who, r.ScenarioSet, r.Scale)
		case r.ShardCount != first.ShardCount || r.Lane != first.Lane:
			return nil, fmt.Errorf("report: Merge: shards %s are of %d shards in lane %q, shards %s of %d in lane %q; shards of one soak share them",
				strings.Join(first.shards, ","), first.ShardCount, first.Lane, who, r.ShardCount, r.Lane)
		case r.Build.Commit != "" && first.Build.Commit != "" && r.Build.Short() != first.Build.Short():
			return nil, fmt.Errorf("report: Merge: shards %s ran nimsync commit %s, shards %s commit %s; shards of one soak share the build",
				strings.Join(first.shards, ","), first.Build.Short(), who, r.Build.Short())
		}
		for k, v := range out.Flags {
			if w, ok := r.Flags[k]; !ok || w != v {
				delete(out.Flags, k)
			}
		}
		for _, sh := range r.shards {
			if prev, dup := owner[sh]; dup {
				return nil, fmt.Errorf("report: Merge: shard %s appears twice (in reports of shards %s and %s)", sh, prev, who)
			}
			owner[sh] = who
			out.Shards = append(out.Shards, sh)
		}
		if out.Tool == "" {
			out.Tool = r.Tool
		}
		if !r.Started.IsZero() && (out.Started.IsZero() || r.Started.Before(out.Started)) {
			out.Started = r.Started
		}
		out.Elapsed = max(out.Elapsed, r.Elapsed)
		out.Duration = max(out.Duration, r.Duration)
		out.Passed = out.Passed && r.Passed
		out.Runs = append(out.Runs, r.Runs...)
		own := "" // the shard of a one-shard report, for schema 1's unnamed failures and samples
		if len(r.shards) == 1 {
			own = r.shards[0]
		}
		for _, f := range r.Failures {
			f.Shard = cmp.Or(f.Shard, own)
			out.Failures = append(out.Failures, f)
		}
		for _, rs := range r.Runtime {
			rs.Shard = cmp.Or(rs.Shard, own)
			out.Runtime = append(out.Runtime, rs)
		}
		for _, st := range r.Strategies {
			if !slices.ContainsFunc(out.Strategies, func(o StrategyStats) bool { return o.Strategy == st.Strategy }) {
				out.Strategies = append(out.Strategies, StrategyStats{Strategy: st.Strategy}) // counted below
			}
		}

		for _, sc := range r.Scenarios {
			if sc.Latency.Count > 0 {
				hdrs[sc.Name] = append(hdrs[sc.Name], sc.LatencyHDR)
			}
			j, ok := byName[sc.Name]
			if !ok {
				byName[sc.Name] = len(out.Scenarios)
				sc.Samples = slices.Clone(sc.Samples)
				out.Scenarios = append(out.Scenarios, sc)
				continue
			}
			m := &out.Scenarios[j]
			m.Runs += sc.Runs
			m.Failures += sc.Failures
			m.Ops += sc.Ops
			m.Seconds += sc.Seconds
			m.Latency = mergePercentiles(m.Latency, sc.Latency)
			m.LatencyHDR = ""
			m.Samples = append(m.Samples, sc.Samples...)
		}

		lk := r.Leak
		if i == 0 {
			out.Leak = Leak{
				GoroutineSlope: lk.GoroutineSlope, HeapSlope: lk.HeapSlope,
				GoroutineTolerance: lk.GoroutineTolerance, HeapTolerance: lk.HeapTolerance,
				OK: true,
			}
		} else {
			out.Leak.GoroutineSlope = max(out.Leak.GoroutineSlope, lk.GoroutineSlope)
			out.Leak.HeapSlope = max(out.Leak.HeapSlope, lk.HeapSlope)
			out.Leak.GoroutineTolerance = min(out.Leak.GoroutineTolerance, lk.GoroutineTolerance)
			out.Leak.HeapTolerance = min(out.Leak.HeapTolerance, lk.HeapTolerance)
		}
		out.Leak.Samples += lk.Samples
		out.Leak.OK = out.Leak.OK && lk.OK
		if lk.Note != "" {
			notes = append(notes, who+": "+lk.Note)
		}
	}
	out.Leak.Note = strings.Join(notes, "; ")
	if out.IsSwarm() {
		out.Strategies = StrategiesOf(out)
	}

	byT := func(a, b float64) int { return cmp.Compare(a, b) }
	slices.SortStableFunc(out.Runtime, func(a, b RuntimeSample) int { return byT(a.T, b.T) })
	for i := range out.Scenarios {
		sc := &out.Scenarios[i]
		if hs := hdrs[sc.Name]; len(hs) > 1 && !slices.Contains(hs, "") { // point 5
			p, enc, err := mergeHDR(hs)
			if err != nil {
				return nil, fmt.Errorf("report: Merge: scenario %s: %w", sc.Name, err)
			}
			sc.Latency, sc.LatencyHDR = p, enc
		}
		sc.OpsPerSec = 0
		if sc.Seconds > 0 {
			sc.OpsPerSec = float64(sc.Ops) / sc.Seconds
		}
		slices.SortStableFunc(sc.Samples, func(a, b Sample) int { return byT(a.T, b.T) })
	}
	return out, nil
}

// ErrMerge is wrapped by every error of [Merge]: the reports are not
// shards of one soak, or not reports this package reads. Check with
// errors.Is.
var ErrMerge = errors.New("report: the reports do not merge")

// mergeError is an error of Merge: it wraps ErrMerge and the cause.
type mergeError struct{ err error }

func (e mergeError) Error() string   { return e.err.Error() }
func (e mergeError) Unwrap() []error { return []error{ErrMerge, e.err} }

// mergePercentiles combines the latency summaries of two shards as [Merge]
// documents: counts summed, each percentile the maximum.
func mergePercentiles(a, b Percentiles) Percentiles {
	switch {
	case b.Count == 0 && a.Count > 0:
		return a
	case a.Count == 0 && b.Count > 0:
		return b
	}
	return Percentiles{
		Count: a.Count + b.Count,
		P50:   max(a.P50, b.P50),
		P95:   max(a.P95, b.P95),
		P99:   max(a.P99, b.P99),
		P999:  max(a.P999, b.P999),
		Max:   max(a.Max, b.Max),
	}
}

// compareShards orders shard names "i/n" by n, then i, numerically; names
// not of that form sort after, by string.
func compareShards(a, b string) int {
	ai, an, aok := parseShard(a)
	bi, bn, bok := parseShard(b)
	switch {
	case aok && bok:
		return cmp.Or(cmp.Compare(an, bn), cmp.Compare(ai, bi))
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a, b)
}

// parseShard parses "i/n".
func parseShard(s string) (i, n uint64, ok bool) {
	is, ns, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.ParseUint(is, 10, 64)
	n, err2 := strconv.ParseUint(ns, 10, 64)
	return i, n, err1 == nil && err2 == nil
}
