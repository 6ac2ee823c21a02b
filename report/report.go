// Package report is the soak's result: a versioned JSON schema, the summary a
// person reads (report.md), a page with plots (report.html), the merge of
// shards, and the comparison of a night with the one before.
package report

import (
	"time"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// SchemaVersion is the version of the report.json schema this package
// writes; schema/report.schema.json (in this package's directory) is its
// JSON Schema. Readers also accept [OldSchemaVersions], whose fields are a
// subset (those added since are zero), and reject others with a clear
// error.
//
// Version 2 added Build, Flags, Duration, RunsBound, ShardCount, Lane,
// Scenario.LatencyHDR, Failure.Shard and RuntimeSample.Shard.
const SchemaVersion = 2

// OldSchemaVersions are the earlier versions [Read] and [Merge] accept.
var OldSchemaVersions = []int{1}

// Report is the result of one soak (or of merged shards of one).
type Report struct {
	Schema  int       `json:"schema"`
	Tool    string    `json:"tool"` // "nimsync"
	Started time.Time `json:"started"`
	// Elapsed is the soak's wall time in seconds.
	Elapsed float64 `json:"elapsed_s"`
	Machine Machine `json:"machine"`
	// Seed is the soak's seed; each run's seed derives from it.
	Seed uint64 `json:"seed"`
	// Shards lists the shards this report covers ("0/1" for an unsharded
	// run; several after a merge).
	Shards []string `json:"shards"`
	// Chaos is the fault mode: "swarm" or "off"; ChaosBuild tells whether
	// the binary had failpoints.
	Chaos      string `json:"chaos"`
	ChaosBuild bool   `json:"chaos_build"`
	// Sched is the serialized mode's strategy ("random", "pct:3") when
	// the runs ran one goroutine at a time under the seeded scheduler;
	// empty when they ran under Go's. "swarm" or "swarm:LIST" (e.g.
	// "swarm:free,pct:2") is a swarm over strategies: each run drew its
	// own from its seed (Run.Strategy), and Strategies sums them up.
	Sched string `json:"sched,omitempty"`
	// Strategies is a swarm's summary by strategy (StrategiesOf), every
	// member of the swarm listed; empty otherwise, and in reports written
	// before swarms.
	Strategies []StrategyStats `json:"strategies,omitempty"`
	// ScenarioSet and Scale are what the soak drew its runs from and at
	// (the sequence of a seed depends on them, so shards must agree).
	// Empty in reports written before they were recorded.
	ScenarioSet []string `json:"scenario_set,omitempty"`
	Scale       float64  `json:"scale,omitempty"`
	// Build is the nimsync binary that ran the soak (schema 2).
	Build Build `json:"build"`
	// Flags are the soak command's flags, every one with the value it had
	// (given or default), by name without dashes (schema 2); empty when
	// the soak did not come from the command line.
	Flags map[string]string `json:"flags,omitempty"`
	// Duration is the soak's requested duration in seconds (0: none, the
	// runs were bounded by RunsBound instead); RunsBound is --runs (0: no
	// bound). Schema 2.
	Duration  float64 `json:"duration_s"`
	RunsBound int     `json:"runs_bound,omitempty"`
	// ShardCount is the n of the shards "i/n" the soak was split into (1
	// unsharded; schema 2, 0 before).
	ShardCount int `json:"shard_count"`
	// Lane names the series of nights the soak belongs to (--lane): for
	// example "bugs" (a new seed every night, hunting failures) or "perf"
	// (a fixed seed with chaos off, for performance trends). Compare
	// refuses to compare two lanes. Empty when unnamed.
	Lane string `json:"lane,omitempty"`

	Scenarios []Scenario      `json:"scenarios"`
	Runs      []Run           `json:"runs"`
	Runtime   []RuntimeSample `json:"runtime"`
	Leak      Leak            `json:"leak"`
	Failures  []Failure       `json:"failures"`
	// Passed is true when no run failed, the leak check passed and no
	// stall was seen.
	Passed bool `json:"passed"`
}

// Machine names where the report was measured; the soak and the
// performance report describe a machine alike.
type Machine = reportkit.Machine

// Build describes the binary that wrote a report, from its build info
// (runtime/debug.ReadBuildInfo); the Go version is Machine's.
type Build struct {
	// Version is the nimsync module's version: a tag, a pseudo-version,
	// or "(devel)".
	Version string `json:"version,omitempty"`
	// Commit is the full commit hash the binary was built from, and
	// CommitTime its time (RFC 3339); empty when the build recorded none
	// (go build -buildvcs=false, or outside a checkout).
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	// Modified is true when the checkout had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
}

// Short is the commit's first 12 hex digits, with "+dirty" when Modified,
// or "unknown".
func (b Build) Short() string {
	c := b.Commit
	if c == "" {
		return "unknown"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	if b.Modified {
		c += "+dirty"
	}
	return c
}

// Scenario sums up all runs of one scenario.
type Scenario struct {
	Name     string  `json:"name"`
	Runs     int     `json:"runs"`
	Failures int     `json:"failures"`
	Ops      int64   `json:"ops"`
	Seconds  float64 `json:"seconds"` // time spent running it
	// OpsPerSec is Ops/Seconds.
	OpsPerSec float64 `json:"ops_per_s"`
	// Latency is over every sample of every run, in nanoseconds.
	Latency Percentiles `json:"latency_ns"`
	// LatencyHDR is the HDR histogram Latency was read from, encoded
	// (hdrhistogram-go's Encode, V2 compressed, base64), so that Merge
	// computes the percentiles of merged shards exactly (schema 2; empty
	// before, and then Merge bounds them).
	LatencyHDR string `json:"latency_hdr,omitempty"`
	// Samples is throughput and latency over time, one per sampling
	// interval in which the scenario ran.
	Samples []Sample `json:"samples"`
}

// Percentiles of a latency distribution, in nanoseconds; Count is the
// number of samples.
type Percentiles struct {
	Count int64 `json:"count"`
	P50   int64 `json:"p50"`
	P95   int64 `json:"p95"`
	P99   int64 `json:"p99"`
	P999  int64 `json:"p999"`
	Max   int64 `json:"max"`
}

// Sample is a scenario's throughput and latency over one interval.
type Sample struct {
	T         float64     `json:"t_s"` // seconds since the soak started, at the interval's end
	OpsPerSec float64     `json:"ops_per_s"`
	Latency   Percentiles `json:"latency_ns"`
}

// Run is one run of one scenario.
type Run struct {
	Scenario string  `json:"scenario"`
	Seed     uint64  `json:"seed"`
	Shard    string  `json:"shard"`
	Start    float64 `json:"start_s"` // seconds since the soak started
	Seconds  float64 `json:"seconds"`
	Ops      int64   `json:"ops"`
	// Steps is a serialized run's count of scheduling steps (Report.Sched);
	// 0 otherwise, or when the run was cut before it ended.
	Steps int64 `json:"steps,omitempty"`
	// Strategy is, in a swarm, the strategy the run drew from its seed:
	// FreeStrategy, "random" or "pct:D"; empty otherwise (see
	// Report.RunStrategy).
	Strategy string `json:"strategy,omitempty"`
	Error    string `json:"error,omitempty"`
}

// RuntimeSample is the process's state at one moment, read after the
// sampling interval (goroutines, heap after the last GC, GC pauses during
// the interval).
type RuntimeSample struct {
	T float64 `json:"t_s"`
	// Shard is the shard ("i/n") whose process was sampled (schema 2):
	// a merged report holds one series per shard.
	Shard      string `json:"shard,omitempty"`
	Goroutines int    `json:"goroutines"`
	HeapBytes  uint64 `json:"heap_bytes"`
	GCPauseNs  uint64 `json:"gc_pause_ns"` // total pause time during the interval
	GCs        uint32 `json:"gcs"`         // collections during the interval
}

// Leak is the verdict on goroutine and heap trends over the soak: the slope
// of a least-squares line through the samples taken between runs (after a
// GC), against a stated tolerance.
type Leak struct {
	GoroutineSlope float64 `json:"goroutine_slope_per_s"`
	HeapSlope      float64 `json:"heap_slope_bytes_per_s"`
	// The tolerances the slopes were held to.
	GoroutineTolerance float64 `json:"goroutine_tolerance_per_s"`
	HeapTolerance      float64 `json:"heap_tolerance_bytes_per_s"`
	Samples            int     `json:"samples"`
	OK                 bool    `json:"ok"`
	Note               string  `json:"note,omitempty"` // e.g. "too few samples to judge"
}

// Failure is a failed run (or a stall, or a leak) and where its artifact is.
type Failure struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	Kind     string `json:"kind"` // "violation", "stall", "runaway", "overrun", "panic", "leak", "contract"
	Error    string `json:"error"`
	// Artifact is the failure's artifact directory, relative to the
	// report's directory when it is inside it.
	Artifact string `json:"artifact,omitempty"`
	// Repro is the one-line command that replays the failure.
	Repro string `json:"repro,omitempty"`
	// Strategy is, in a swarm, the failed run's strategy (Run.Strategy).
	Strategy string `json:"strategy,omitempty"`
	// Shard is the shard ("i/n") that found the failure (schema 2).
	Shard string `json:"shard,omitempty"`
}
