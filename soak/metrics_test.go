package soak

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/scenarios"
)

// gathered returns the metric families of reg by name.
func gathered(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// TestMetricsDuringAndAfterARun: the operation counter and the latency
// histogram advance while a run is still going (at each sampling
// interval), the per-run gauges exist only while it runs, and when the
// soak ends the counters hold the run's totals exactly and the
// last-success timestamp is set.
func TestMetricsDuringAndAfterARun(t *testing.T) {
	release := make(chan struct{})
	slow := scenarios.Scenario{Name: "spsc-stream", Run: func(ctx context.Context, c scenarios.Config) error {
		c.Meter.Add(1000)
		c.Meter.Observe(3 * time.Microsecond)
		c.Meter.Observe(40 * time.Millisecond)
		<-release
		c.Meter.Add(234)
		c.Meter.Observe(3 * time.Microsecond)
		return nil
	}}
	reg, m := NewRegistry()
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), Config{Runs: 1, Seed: 1, Scenarios: []scenarios.Scenario{slow},
			Sample: 5 * time.Millisecond, Metrics: m})
		done <- err
	}()
	require.Eventually(t, func() bool {
		fs := gathered(t, reg)
		ops := fs["nimsync_soak_ops_total"]
		return ops != nil && ops.Metric[0].GetCounter().GetValue() == 1000
	}, 10*time.Second, time.Millisecond, "the counter advances while the run goes on")
	fs := gathered(t, reg)
	assert.Nil(t, fs["nimsync_soak_runs_total"], "no run has ended")
	require.NotNil(t, fs["nimsync_soak_running"])
	assert.Equal(t, "spsc-stream", fs["nimsync_soak_running"].Metric[0].Label[0].GetValue())
	require.NotNil(t, fs["nimsync_soak_ops_per_second"])
	h := fs["nimsync_soak_latency_seconds"].Metric[0].GetHistogram()
	assert.Equal(t, uint64(2), h.GetSampleCount())
	assert.Equal(t, dto.MetricType_HISTOGRAM, fs["nimsync_soak_latency_seconds"].GetType())
	for _, b := range h.Bucket {
		switch b.GetUpperBound() {
		case 2.5e-6:
			assert.Zero(t, b.GetCumulativeCount())
		case 5e-6, 25e-3:
			assert.Equal(t, uint64(1), b.GetCumulativeCount(), "le %g", b.GetUpperBound())
		case 50e-3:
			assert.Equal(t, uint64(2), b.GetCumulativeCount())
		}
	}
	close(release)
	require.NoError(t, <-done)

	fs = gathered(t, reg)
	assert.Equal(t, float64(1234), fs["nimsync_soak_ops_total"].Metric[0].GetCounter().GetValue(), "every operation counted once")
	assert.Equal(t, float64(1), fs["nimsync_soak_runs_total"].Metric[0].GetCounter().GetValue())
	assert.Nil(t, fs["nimsync_soak_running"], "dropped when the run ended")
	assert.Nil(t, fs["nimsync_soak_ops_per_second"], "dropped when the run ended")
	assert.Equal(t, uint64(3), fs["nimsync_soak_latency_seconds"].Metric[0].GetHistogram().GetSampleCount())
	last := fs["nimsync_soak_last_success_timestamp_seconds"].Metric[0].GetGauge().GetValue()
	assert.InDelta(t, float64(time.Now().Unix()), last, 60)
	assert.Equal(t, last, fs["nimsync_soak_last_end_timestamp_seconds"].Metric[0].GetGauge().GetValue())
	info := fs["nimsync_build_info"].Metric[0]
	assert.Equal(t, float64(1), info.GetGauge().GetValue())
	assert.Len(t, info.Label, 3)
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total"} {
		assert.Contains(t, fs, name, "the Go and process collectors")
	}
}
