package soak

import (
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/report"
)

// ChaosBuild reports whether this binary was built with failpoints.
func ChaosBuild() bool { return chaos.Available() }

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
