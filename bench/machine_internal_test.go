package bench

import (
	"testing"
	"time"
)

// BenchmarkMachineLineRoundTrip measures how long one cache line takes to
// go from one core to another and back (lineRTT, which describeMachine
// runs at the start of every report): on a VM the host may place the vCPUs
// close (≈90 ns) or far apart (≈360 ns), and a lock-free channel whose ends
// run on two cores pays it. Record it with every benchmark run.
func BenchmarkMachineLineRoundTrip(b *testing.B) {
	rtt := lineRTT(b.N, time.Now().Add(time.Minute))
	if rtt < 0 {
		b.Skip("the two goroutines did not run side by side (GOMAXPROCS 1?)")
	}
	b.ReportMetric(rtt, "line-rtt-ns")
}
