package soak

import (
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/report"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a soak's live Prometheus metrics, all prefixed nimsync_. A
// soak updates them as it goes; serve them with promhttp, or push them to
// a Pushgateway at the end of a batch run.
type Metrics struct {
	runs       *prometheus.CounterVec
	strategies *prometheus.CounterVec
	failures   *prometheus.CounterVec
	ops        *prometheus.CounterVec
	opsRate    *prometheus.GaugeVec
	latency    *prometheus.GaugeVec
	goroutines prometheus.Gauge
	heap       prometheus.Gauge
	gcPause    prometheus.Counter
	elapsed    prometheus.Gauge
	parked     prometheus.Gauge
	liveTasks  prometheus.Gauge
	liveScopes prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_runs_total",
			Help: "Scenario runs finished, by scenario and result (pass or fail)."}, []string{"scenario", "result"}),
		strategies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_strategy_runs_total",
			Help: "A swarm's runs finished, by the strategy each drew (free, random, pct:D) and result (pass or fail)."}, []string{"strategy", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_failures_total",
			Help: "Failures found, by scenario and kind (violation, panic, contract, stall)."}, []string{"scenario", "kind"}),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_ops_total",
			Help: "Operations completed by finished runs, by scenario."}, []string{"scenario"}),
		opsRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "nimsync_soak_ops_per_second",
			Help: "Throughput of the last sampling interval, by scenario."}, []string{"scenario"}),
		latency: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "nimsync_soak_latency_seconds",
			Help: "Latency percentiles of the last sampling interval, by scenario and quantile."}, []string{"scenario", "quantile"}),
		goroutines: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_goroutines", Help: "Goroutines at the last sample."}),
		heap:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_heap_bytes", Help: "Heap in use at the last sample."}),
		gcPause:    prometheus.NewCounter(prometheus.CounterOpts{Name: "nimsync_soak_gc_pause_seconds_total", Help: "GC pause time during the soak."}),
		elapsed:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_elapsed_seconds", Help: "Time since the soak started."}),
		parked:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_parked_waiters", Help: "Goroutines parked in nimsync channel wait queues (core.ReadStats)."}),
		liveTasks:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_live_tasks", Help: "Group tasks submitted and not finished (core.ReadStats)."}),
		liveScopes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_live_scopes", Help: "Scopes linked under a live parent (core.ReadStats)."}),
	}
	reg.MustRegister(m.runs, m.strategies, m.failures, m.ops, m.opsRate, m.latency, m.goroutines, m.heap, m.gcPause,
		m.elapsed, m.parked, m.liveTasks, m.liveScopes)
	return m
}

func (m *Metrics) run(scenario string, ops int64, failed bool) {
	result := "pass"
	if failed {
		result = "fail"
	}
	m.runs.WithLabelValues(scenario, result).Inc()
	m.ops.WithLabelValues(scenario).Add(float64(ops))
}

func (m *Metrics) strategyRun(strategy string, failed bool) {
	result := "pass"
	if failed {
		result = "fail"
	}
	m.strategies.WithLabelValues(strategy, result).Inc()
}

func (m *Metrics) failure(scenario, kind string) { m.failures.WithLabelValues(scenario, kind).Inc() }

func (m *Metrics) interval(scenario string, s report.Sample) {
	m.opsRate.WithLabelValues(scenario).Set(s.OpsPerSec)
	if s.Latency.Count == 0 {
		return
	}
	for q, v := range map[string]int64{"0.5": s.Latency.P50, "0.95": s.Latency.P95, "0.99": s.Latency.P99, "0.999": s.Latency.P999, "1": s.Latency.Max} {
		m.latency.WithLabelValues(scenario, q).Set(time.Duration(v).Seconds())
	}
}

func (m *Metrics) runtime(rs report.RuntimeSample, st core.Stats, elapsed time.Duration) {
	m.goroutines.Set(float64(rs.Goroutines))
	m.heap.Set(float64(rs.HeapBytes))
	m.gcPause.Add(time.Duration(rs.GCPauseNs).Seconds())
	m.elapsed.Set(elapsed.Seconds())
	m.parked.Set(float64(st.ParkedWaiters))
	m.liveTasks.Set(float64(st.LiveTasks))
	m.liveScopes.Set(float64(st.LiveScopes))
}
