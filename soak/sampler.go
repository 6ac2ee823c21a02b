package soak

import (
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/reportkit"
	"github.com/nimsync/nimsync/report"
)

// sampler samples every Config.Sample until stop is closed: the current
// run's throughput and latencies, the process's goroutines, heap and GC
// pauses; it also runs the stall watchdog and the progress display.
func (s *soak) sampler(stop <-chan struct{}) {
	t := time.NewTicker(s.c.Sample)
	defer t.Stop()
	// The watchdog looks more often than the samples are taken, so that a
	// short Stall is honoured.
	w := time.NewTicker(min(s.c.Sample, max(s.c.Stall/4, time.Millisecond)))
	defer w.Stop()
	lastLog := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-w.C:
			s.watchdog(now)
		case now := <-t.C:
			s.sample(now)
			if s.c.Progress != nil && (s.c.Terminal || now.Sub(lastLog) >= 10*time.Second) {
				s.progress(now)
				lastLog = now
			}
		}
	}
}

// watchdog cuts the current run (closes its cut channel, once) when it
// counted more operations than its budget ("runaway": progress that never
// ends, which the stall check counts as progress), ran past its time bound
// ("overrun"), or its operation count stood still for Config.Stall
// ("stall"; not in the serialized mode).
func (s *soak) watchdog(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur
	if cur == nil || cur.fired {
		return
	}
	ops := cur.meter.Ops()
	switch {
	case cur.maxOps > 0 && ops > cur.maxOps:
		cur.kind = "runaway"
		cur.why = fmt.Sprintf("the run counted %d operations after %v, past its budget of %s: a runaway",
			ops, now.Sub(cur.startedAt).Round(time.Millisecond), cur.expected)
	case !cur.until.IsZero() && !now.Before(cur.until):
		cur.kind = "overrun"
		cur.why = fmt.Sprintf("the run was still going after %v, past %s", now.Sub(cur.startedAt).Round(time.Millisecond), cur.untilWhy)
	case ops != cur.lastOps:
		cur.lastOps, cur.lastMove = ops, now
		return
	case s.c.Sched != "":
		// A serialized run needs no stall check, and its slow goroutines
		// may count no operation for long (each adds its count every
		// flushOps): its scheduler reports a deadlock at the step it
		// happens, a goroutine blocked outside it after serialWallBound,
		// and a livelock at serialMaxSteps.
		return
	case now.Sub(cur.lastMove) >= s.c.Stall:
		cur.kind = "stall"
		cur.why = fmt.Sprintf("the run made no progress for %v: no operation completed", s.c.Stall)
	default:
		return
	}
	cur.fired = true
	close(cur.cut)
}

// sample records one interval.
func (s *soak) sample(now time.Time) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t := now.Sub(s.started).Seconds()
	st := core.ReadStats()
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := report.RuntimeSample{
		T:          t,
		Shard:      s.shardName(),
		Goroutines: runtime.NumGoroutine(),
		HeapBytes:  ms.HeapAlloc,
		GCPauseNs:  ms.PauseTotalNs - s.lastMem.PauseTotalNs,
		GCs:        ms.NumGC - s.lastMem.NumGC,
	}
	s.lastMem = ms
	s.rt = append(s.rt, rs)
	if s.c.Metrics != nil {
		s.c.Metrics.runtime(rs, st, now.Sub(s.started))
	}
	cur := s.cur
	if cur == nil {
		return
	}
	if now.Sub(cur.lastTick) < s.c.Sample/2 {
		// The run began just before this tick: a rate over a sliver of
		// an interval is noise. Its operations go to the next sample
		// (or to the run's totals).
		return
	}
	ops := cur.meter.Ops()
	interval := now.Sub(cur.lastTick).Seconds()
	h := cur.meter.TakeLatencies()
	a := s.acc[cur.step.Scenario]
	a.hist.Merge(h)
	if interval > 0 {
		sm := report.Sample{T: t, OpsPerSec: float64(ops-cur.totalOps) / interval, Latency: percentiles(h)}
		a.samples = append(a.samples, sm)
		if s.c.Metrics != nil {
			s.c.Metrics.interval(cur.step.Scenario, ops-cur.totalOps, sm, h)
		}
	}
	cur.totalOps, cur.lastTick = ops, now
}

// percentiles summarizes h.
func percentiles(h *hdrhistogram.Histogram) report.Percentiles { return report.PercentilesOf(h) }

// progress prints the live progress: one redrawn line on a terminal, a
// log line otherwise.
func (s *soak) progress(now time.Time) {
	s.mu.Lock()
	runs, fails := len(s.runs), len(s.failures)
	var ops int64
	var secs float64
	for _, a := range s.acc {
		ops += a.ops
		secs += a.seconds
	}
	name := "-"
	if s.cur != nil {
		name = s.cur.step.Scenario
		ops += s.cur.meter.Ops()
		secs += now.Sub(s.cur.startedAt).Seconds()
	}
	s.mu.Unlock()
	elapsed := now.Sub(s.started).Round(time.Second)
	remaining := "-"
	if s.c.Duration > 0 {
		remaining = max(s.c.Duration-now.Sub(s.started), 0).Round(time.Second).String()
	}
	rate := 0.0
	if secs > 0 {
		rate = float64(ops) / secs
	}
	line := fmt.Sprintf("soak %s: elapsed %v, remaining %s, runs %d, failures %d, now %s, %s ops/s",
		s.shardName(), elapsed, remaining, runs, fails, name, reportkit.Count(rate))
	s.progressMu.Lock()
	defer s.progressMu.Unlock()
	if s.c.Terminal {
		fmt.Fprintf(s.c.Progress, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(s.c.Progress, line)
	}
}

func (s *soak) progressDone() {
	if s.c.Progress != nil && s.c.Terminal {
		s.progressMu.Lock()
		defer s.progressMu.Unlock()
		fmt.Fprintln(s.c.Progress)
	}
}

// leakPoint is the process's state between runs, after a GC: the points
// the leak trend is fitted through.
type leakPoint struct {
	t          float64
	goroutines float64
	heap       float64
}

// leakPoint records the state after a run: goroutines (not counting the
// task pool's parked workers, which linger up to 100 ms) and live heap.
func (s *soak) leakPoint() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g := runtime.NumGoroutine() - core.ReadStats().Workers
	s.mu.Lock()
	heap := float64(ms.HeapAlloc) - float64(s.bookkeeping())
	s.leak = append(s.leak, leakPoint{time.Since(s.started).Seconds(), float64(g), heap})
	s.mu.Unlock()
}

// bookkeeping estimates the heap the soak's own records hold (samples and
// runs grow with the soak's length), so that the leak trend does not count
// them: about 100 bytes a second at the default sampling. s.mu must be held.
func (s *soak) bookkeeping() uintptr {
	n := uintptr(cap(s.rt))*unsafe.Sizeof(report.RuntimeSample{}) +
		uintptr(cap(s.runs))*unsafe.Sizeof(report.Run{}) +
		uintptr(cap(s.leak))*unsafe.Sizeof(leakPoint{})
	for _, a := range s.acc {
		n += uintptr(cap(a.samples)) * unsafe.Sizeof(report.Sample{})
	}
	return n
}

// Leak tolerances: over the span of the soak, the fitted trend may grow by
// at most this many goroutines and bytes of live heap. (A leak of one
// goroutine per run, or of 100 KiB per run, exceeds them within a few dozen
// runs.) The per-second tolerances in the report are these over the span.
const (
	leakGoroutines = 4
	leakHeap       = 8 << 20
	minLeakPoints  = 5
)

// leakVerdict fits a least-squares line through the points.
func leakVerdict(pts []leakPoint) report.Leak {
	l := report.Leak{Samples: len(pts), OK: true}
	if len(pts) < minLeakPoints {
		l.Note = fmt.Sprintf("not judged: %d samples between runs, %d needed", len(pts), minLeakPoints)
		return l
	}
	span := pts[len(pts)-1].t - pts[0].t
	if span <= 0 {
		l.Note = "not judged: the samples span no time"
		return l
	}
	l.GoroutineSlope = slope(pts, func(p leakPoint) float64 { return p.goroutines })
	l.HeapSlope = slope(pts, func(p leakPoint) float64 { return p.heap })
	l.GoroutineTolerance = leakGoroutines / span
	l.HeapTolerance = leakHeap / span
	var bad []string
	if l.GoroutineSlope > l.GoroutineTolerance {
		bad = append(bad, fmt.Sprintf("goroutines grow by %.1f over %.0f s", l.GoroutineSlope*span, span))
	}
	if l.HeapSlope > l.HeapTolerance {
		bad = append(bad, fmt.Sprintf("live heap grows by %.1f MiB over %.0f s", l.HeapSlope*span/(1<<20), span))
	}
	if len(bad) > 0 {
		l.OK = false
		l.Note = fmt.Sprint(bad)
	}
	return l
}

func slope(pts []leakPoint, y func(leakPoint) float64) float64 {
	var sx, sy, sxx, sxy float64
	n := float64(len(pts))
	for _, p := range pts {
		sx += p.t
		sy += y(p)
		sxx += p.t * p.t
		sxy += p.t * y(p)
	}
	d := n*sxx - sx*sx
	if d == 0 || math.IsNaN(d) {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
