package soak

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/report"
)

// Metrics are a soak's live Prometheus metrics, all prefixed nimsync_, named
// after Prometheus's practice (base units, _total counters, _seconds). A
// soak updates them as it goes: counters advance during a run (at every
// sampling interval, not only when the run ends); the latency is a
// histogram, which sums across shards and over time windows (quantile
// gauges do not); per-scenario gauges are dropped when their run ends, so a
// scenario no longer running leaves no stale value. Serve them with
// promhttp, or push them to a Pushgateway at the end of a batch run.
//
// The names are a contract: deploy/grafana's dashboard and
// deploy/prometheus's alert rules query them (TestDashboardQueriesExist).
type Metrics struct {
	runs        *prometheus.CounterVec
	strategies  *prometheus.CounterVec
	failures    *prometheus.CounterVec
	ops         *prometheus.CounterVec
	opsRate     *prometheus.GaugeVec
	latency     *latencyHistograms
	goroutines  prometheus.Gauge
	heap        prometheus.Gauge
	gcPause     prometheus.Counter
	elapsed     prometheus.Gauge
	parked      prometheus.Gauge
	liveTasks   prometheus.Gauge
	liveScopes  prometheus.Gauge
	running     *prometheus.GaugeVec
	lastSuccess prometheus.Gauge
	lastEnd     prometheus.Gauge
}

// NewMetrics creates the soak's metrics and registers them with reg, with
// nimsync_build_info (the binary's version and commit, from
// [BuildInfo]). See [NewRegistry] for a registry with the Go and process
// collectors too.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_runs_total",
			Help: "Scenario runs finished, by scenario and result (pass or fail)."}, []string{"scenario", "result"}),
		strategies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_strategy_runs_total",
			Help: "A swarm's runs finished, by the strategy each drew (free, random, pct:D) and result (pass or fail)."}, []string{"strategy", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_failures_total",
			Help: "Failures found, by scenario and kind (violation, panic, contract, stall, runaway, overrun)."}, []string{"scenario", "kind"}),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nimsync_soak_ops_total",
			Help: "Operations completed, by scenario; advances at every sampling interval of a run."}, []string{"scenario"}),
		opsRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "nimsync_soak_ops_per_second",
			Help: "Throughput of the last sampling interval of the running scenario; dropped when its run ends."}, []string{"scenario"}),
		latency:    newLatencyHistograms(),
		goroutines: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_goroutines", Help: "Goroutines at the last sample."}),
		heap:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_heap_bytes", Help: "Heap in use at the last sample."}),
		gcPause:    prometheus.NewCounter(prometheus.CounterOpts{Name: "nimsync_soak_gc_pause_seconds_total", Help: "GC pause time during the soak."}),
		elapsed:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_elapsed_seconds", Help: "Time since the soak started."}),
		parked:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_parked_waiters", Help: "Goroutines parked in nimsync channel wait queues (core.ReadStats)."}),
		liveTasks:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_live_tasks", Help: "Group tasks submitted and not finished (core.ReadStats)."}),
		liveScopes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_live_scopes", Help: "Scopes linked under a live parent (core.ReadStats)."}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "nimsync_soak_running",
			Help: "1 for the scenario whose run is in progress; dropped when the run ends."}, []string{"scenario"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_last_success_timestamp_seconds",
			Help: "When the last soak that passed ended (Unix time); 0 until one has."}),
		lastEnd: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_soak_last_end_timestamp_seconds",
			Help: "When the last soak ended, passed or not (Unix time); 0 until one has."}),
	}
	b := BuildInfo()
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "nimsync_build_info",
		Help:        "Always 1; its labels name the binary: nimsync's version and commit, and the failpoint build.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Short(), "failpoints": boolLabel(ChaosBuild())}})
	info.Set(1)
	reg.MustRegister(m.runs, m.strategies, m.failures, m.ops, m.opsRate, m.latency, m.goroutines, m.heap, m.gcPause,
		m.elapsed, m.parked, m.liveTasks, m.liveScopes, m.running, m.lastSuccess, m.lastEnd, info)
	return m
}

// NewRegistry returns a registry holding the soak's metrics (returned) and
// the Go runtime's and the process's collectors (go_*, process_*), as the
// nimsync command serves and pushes them.
func NewRegistry() (*prometheus.Registry, *Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, NewMetrics(reg)
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// start marks scenario's run as running.
func (m *Metrics) start(scenario string) { m.running.WithLabelValues(scenario).Set(1) }

// run counts a finished run, and the operations it did since its last
// sampling interval (rest), and drops the scenario's per-run series.
func (m *Metrics) run(scenario string, rest int64, failed bool) {
	result := "pass"
	if failed {
		result = "fail"
	}
	m.runs.WithLabelValues(scenario, result).Inc()
	m.ops.WithLabelValues(scenario).Add(float64(max(rest, 0)))
	m.opsRate.DeleteLabelValues(scenario)
	m.running.DeleteLabelValues(scenario)
}

func (m *Metrics) strategyRun(strategy string, failed bool) {
	result := "pass"
	if failed {
		result = "fail"
	}
	m.strategies.WithLabelValues(strategy, result).Inc()
}

func (m *Metrics) failure(scenario, kind string) { m.failures.WithLabelValues(scenario, kind).Inc() }

// interval records one sampling interval of scenario's run: ops operations,
// the throughput sample and the interval's latency histogram h.
func (m *Metrics) interval(scenario string, ops int64, s report.Sample, h *hdrhistogram.Histogram) {
	m.ops.WithLabelValues(scenario).Add(float64(max(ops, 0)))
	m.opsRate.WithLabelValues(scenario).Set(s.OpsPerSec)
	m.latency.add(scenario, h)
}

// latencies records latency samples that no interval took (a run's last
// partial interval).
func (m *Metrics) latencies(scenario string, h *hdrhistogram.Histogram) { m.latency.add(scenario, h) }

func (m *Metrics) runtime(rs report.RuntimeSample, st core.Stats, elapsed time.Duration) {
	m.goroutines.Set(float64(rs.Goroutines))
	m.heap.Set(float64(rs.HeapBytes))
	m.gcPause.Add(time.Duration(rs.GCPauseNs).Seconds())
	m.elapsed.Set(elapsed.Seconds())
	m.parked.Set(float64(st.ParkedWaiters))
	m.liveTasks.Set(float64(st.LiveTasks))
	m.liveScopes.Set(float64(st.LiveScopes))
}

// ended records the end of the soak at t, and of a passing one.
func (m *Metrics) ended(t time.Time, passed bool) {
	m.lastEnd.Set(float64(t.UnixNano()) / 1e9)
	if passed {
		m.lastSuccess.Set(float64(t.UnixNano()) / 1e9)
	}
}

// latencyBuckets are the upper bounds, in seconds, of the latency
// histogram's classic buckets: 1-2.5-5 steps from 1 µs to 10 s.
var latencyBuckets = func() []float64 {
	var b []float64
	for d := 1e-6; d < 20; d *= 10 {
		b = append(b, d, 2.5*d, 5*d)
	}
	return b[:len(b)-2] // ... 5 s, 10 s
}()

// latencyHistograms is nimsync_soak_latency_seconds: a classic histogram
// per scenario, fed from the soak's HDR histograms (each HDR bar's count
// goes to the first bucket at or above the bar's middle, at the HDR's
// precision of 3 significant digits), exposed as const histograms at each
// scrape. Any goroutine may call add and Collect.
type latencyHistograms struct {
	desc *prometheus.Desc
	mu   sync.Mutex // guards by and its values
	by   map[string]*latencyHistogram
}

type latencyHistogram struct {
	count  uint64
	sum    float64            // seconds
	bucket map[float64]uint64 // upper bound → count of values in (previous bound, bound]
}

func newLatencyHistograms() *latencyHistograms {
	return &latencyHistograms{
		desc: prometheus.NewDesc("nimsync_soak_latency_seconds",
			"Latency of the sampled operations (one in 64; a value's send-to-receive or spawn-to-start time), by scenario.",
			[]string{"scenario"}, nil),
		by: map[string]*latencyHistogram{},
	}
}

// add adds the values of h, in nanoseconds, to scenario's histogram.
func (l *latencyHistograms) add(scenario string, h *hdrhistogram.Histogram) {
	if h == nil || h.TotalCount() == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lh := l.by[scenario]
	if lh == nil {
		lh = &latencyHistogram{bucket: map[float64]uint64{}}
		l.by[scenario] = lh
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := float64(bar.From+bar.To) / 2 / 1e9 // the bar's middle: within 0.1% of its values
		n := uint64(bar.Count)
		lh.count += n
		lh.sum += v * float64(n)
		i := sort.SearchFloat64s(latencyBuckets, v)
		if i < len(latencyBuckets) {
			lh.bucket[latencyBuckets[i]] += n
		}
	}
}

func (l *latencyHistograms) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *latencyHistograms) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, lh := range l.by {
		cum := make(map[float64]uint64, len(latencyBuckets))
		var run uint64
		for _, b := range latencyBuckets {
			run += lh.bucket[b]
			cum[b] = run
		}
		sum := lh.sum
		if math.IsNaN(sum) || math.IsInf(sum, 0) {
			sum = 0
		}
		ch <- prometheus.MustNewConstHistogram(l.desc, lh.count, sum, cum, name)
	}
}
