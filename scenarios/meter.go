package scenarios

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded from 1ns to 1 minute with 3 significant digits.
const (
	minLatency = 1
	maxLatency = int64(time.Minute)
	sigFigs    = 3
)

// Meter counts a scenario's operations and records sampled latencies in an
// HDR histogram. Its methods may be called from any goroutine. A scenario
// counts in batches (Add(n) once per few hundred operations) and samples
// latencies (one in 64, say), so the meter stays off the hot path it
// measures. The zero Meter is not usable: call [NewMeter].
type Meter struct {
	ops atomic.Int64
	_   [56]byte // ops is written by every worker; keep it off mu's line

	mu   sync.Mutex // guards hist
	hist *hdrhistogram.Histogram
}

// NewMeter returns an empty meter.
func NewMeter() *Meter {
	return &Meter{hist: hdrhistogram.New(minLatency, maxLatency, sigFigs)}
}

// Add counts n operations.
func (m *Meter) Add(n int) { m.ops.Add(int64(n)) }

// Ops returns the operations counted so far.
func (m *Meter) Ops() int64 { return m.ops.Load() }

// Observe records one latency sample; values outside [1ns, 1min] are
// clamped.
func (m *Meter) Observe(d time.Duration) {
	v := min(max(int64(d), minLatency), maxLatency)
	m.mu.Lock()
	_ = m.hist.RecordValue(v)
	m.mu.Unlock()
}

// TakeLatencies returns the latencies recorded since the last call and
// starts a new histogram. The caller owns the returned histogram.
func (m *Meter) TakeLatencies() *hdrhistogram.Histogram {
	fresh := hdrhistogram.New(minLatency, maxLatency, sigFigs)
	m.mu.Lock()
	h := m.hist
	m.hist = fresh
	m.mu.Unlock()
	return h
}
