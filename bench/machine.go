package bench

// The machine a report was measured on.

import (
	"runtime"
	"time"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// describeMachine describes this machine and measures its cache-line round
// trip: the least of up to five reportkit.LineRTT runs of 2000 bounces
// (about 1 ms each), since on a busy machine a run is slowed when the OS
// deschedules one of the two goroutines, which says nothing of where the
// cores are. It gives up after 250 ms; LineRTTNs is 0 when GOMAXPROCS is 1
// or no run finished in time.
func describeMachine() Machine {
	m := Machine{Machine: reportkit.DescribeMachine()}
	if runtime.GOMAXPROCS(0) > 1 {
		deadline := time.Now().Add(250 * time.Millisecond)
		for range 5 {
			rtt := reportkit.LineRTT(2000, deadline)
			if rtt < 0 {
				break
			}
			if m.LineRTTNs == 0 || rtt < m.LineRTTNs {
				m.LineRTTNs = rtt
			}
		}
	}
	return m
}
