package report

import (
	"cmp"
	"fmt"
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
// schema other than 0 (not yet written) or [SchemaVersion], names no
// shard, or when the reports disagree on Seed, Chaos or ChaosBuild (shards
// of one soak share them), or when two reports cover the same shard.
//
// The merged report has:
//
//  1. Shards: all shards, sorted by shard index ("2/8" before "10/8").
//  2. Runs, Failures: concatenated, in shard order.
//  3. Runtime: concatenated and sorted by T (stable). The samples of
//     different processes interleave; goroutines and heap are not summed.
//  4. Scenarios: one per name, in order of first appearance. Runs,
//     Failures, Ops and Seconds are summed and OpsPerSec is recomputed as
//     Ops/Seconds. Samples are concatenated and sorted by T, each still one
//     shard's interval.
//  5. Scenario latency: only percentiles are stored, so they cannot be
//     recombined exactly. Each percentile is the maximum over the shards
//     that measured any (Count > 0) and Count is the sum. The true
//     percentile of the union lies between the shards' smallest and largest
//     value of it, so the merged value is an upper bound, exact for Max
//     and when one shard dominates; it never hides a slow shard.
//  6. Leak: OK only if every shard's is; the slopes are the largest (worst)
//     of the shards, the tolerances the smallest, Samples the sum, and the
//     notes are kept, each prefixed by its shard.
//  7. Strategies (a swarm's): recounted from the merged runs and failures
//     (StrategiesOf), every strategy a shard listed kept.
//  8. Passed: all passed. Elapsed: the largest. Started: the earliest.
//     Tool and Machine: those of the first shard (the schema holds one
//     machine).
func Merge(rs ...*Report) (*Report, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("report: Merge of no reports")
	}
	for i, r := range rs {
		if r == nil {
			return nil, fmt.Errorf("report: Merge: report %d is nil", i)
		}
		if r.Schema != 0 && r.Schema != SchemaVersion {
			return nil, fmt.Errorf("%w: Merge: report %d has schema %d, this package knows %d", ErrSchema, i, r.Schema, SchemaVersion)
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
		Passed:      true,
		Leak:        Leak{OK: true},
	}
	owner := map[string]string{} // shard → the shards of the report naming it
	byName := map[string]int{}   // scenario name → index in out.Scenarios
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
		out.Passed = out.Passed && r.Passed
		out.Runs = append(out.Runs, r.Runs...)
		out.Failures = append(out.Failures, r.Failures...)
		out.Runtime = append(out.Runtime, r.Runtime...)
		for _, st := range r.Strategies {
			if !slices.ContainsFunc(out.Strategies, func(o StrategyStats) bool { return o.Strategy == st.Strategy }) {
				out.Strategies = append(out.Strategies, StrategyStats{Strategy: st.Strategy}) // counted below
			}
		}

		for _, sc := range r.Scenarios {
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
		sc.OpsPerSec = 0
		if sc.Seconds > 0 {
			sc.OpsPerSec = float64(sc.Ops) / sc.Seconds
		}
		slices.SortStableFunc(sc.Samples, func(a, b Sample) int { return byT(a.T, b.T) })
	}
	return out, nil
}

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
