package soak

import (
	"maps"
	"runtime/debug"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/report"
)

// ChaosBuild reports whether this binary was built with failpoints.
func ChaosBuild() bool { return chaos.Available() }

// BuildInfo describes this binary from its build info: the nimsync
// module's version and the commit it was built from (empty where the build
// recorded none: a test binary, or go build -buildvcs=false).
func BuildInfo() report.Build {
	var b report.Build
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version = bi.Main.Version
	for _, st := range bi.Settings {
		switch st.Key {
		case "vcs.revision":
			b.Commit = st.Value
		case "vcs.time":
			b.CommitTime = st.Value
		case "vcs.modified":
			b.Modified = st.Value == "true"
		}
	}
	return b
}

// finish builds the report from what the soak recorded.
func (s *soak) finish() *report.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	mode := "off"
	if s.c.Chaos {
		mode = "swarm"
		if s.c.Plan != nil {
			mode = "plan"
		}
	}
	r := &report.Report{
		Schema:      report.SchemaVersion,
		Tool:        "nimsync",
		Started:     s.started.UTC(),
		Elapsed:     time.Since(s.started).Seconds(),
		Machine:     Machine(),
		Seed:        s.c.Seed,
		Shards:      []string{s.shardName()},
		Chaos:       mode,
		ChaosBuild:  ChaosBuild(),
		Sched:       s.c.Sched,
		ScenarioSet: s.names,
		Scale:       s.c.Scale,
		Build:       BuildInfo(),
		Flags:       maps.Clone(s.c.Flags),
		Duration:    s.c.Duration.Seconds(),
		RunsBound:   s.c.Runs,
		ShardCount:  max(s.c.Shards, 1),
		Lane:        s.c.Lane,
		Runs:        s.runs,
		Runtime:     s.rt,
		Failures:    s.failures,
		Leak:        leakVerdict(s.leak),
	}
	for _, m := range s.swarm { // every member, those that drew no run too
		r.Strategies = append(r.Strategies, report.StrategyStats{Strategy: m})
	}
	if s.swarm != nil {
		r.Strategies = report.StrategiesOf(r)
	}
	for _, name := range s.order {
		a := s.acc[name]
		sc := report.Scenario{Name: name, Runs: a.runs, Failures: a.failures, Ops: a.ops, Seconds: a.seconds,
			Latency: percentiles(a.hist), Samples: a.samples}
		if enc, err := report.EncodeHDR(a.hist); err == nil { // the histogram cannot fail to encode; without it a merge bounds
			sc.LatencyHDR = enc
		}
		if a.seconds > 0 {
			sc.OpsPerSec = float64(a.ops) / a.seconds
		}
		r.Scenarios = append(r.Scenarios, sc)
	}
	if !r.Leak.OK {
		r.Failures = append(r.Failures, report.Failure{Kind: "leak", Error: r.Leak.Note})
	}
	r.Passed = len(r.Failures) == 0
	return r
}
