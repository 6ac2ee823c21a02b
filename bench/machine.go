package bench

// The machine a report was measured on.

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// describeMachine describes this machine and measures its cache-line round
// trip: the least of up to five lineRTT runs of 2000 bounces (about 1 ms
// each), since on a busy machine a run is slowed when the OS deschedules
// one of the two goroutines, which says nothing of where the cores are. It
// gives up after 250 ms; LineRTTNs is 0 when GOMAXPROCS is 1 or no run
// finished in time.
func describeMachine() Machine {
	m := Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
	}
	if m.GOMAXPROCS > 1 {
		deadline := time.Now().Add(250 * time.Millisecond)
		for range 5 {
			rtt := lineRTT(2000, deadline)
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

// cpuModel returns the first "model name" of /proc/cpuinfo, or "" where
// there is none (not Linux, or a CPU that names itself otherwise).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// lineRTT measures how long a cache line takes to go from one core to
// another and back, in nanoseconds: two goroutines take turns to increment
// an atomic, n times each. It returns -1 if it has not finished by
// deadline (one P, or a busy machine where the two goroutines seldom run
// at once). On a VM
// the host may place two vCPUs close together or far apart, and a lock-free
// channel whose ends run on two cores pays this price per exchanged line,
// where a Go channel hands a woken goroutine to the waker's core; so the
// figure tells which machine the channel numbers come from.
func lineRTT(n int, deadline time.Time) float64 {
	var x atomic.Int64
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for i := int64(1); i < int64(2*n); i += 2 {
			for spins := 1; x.Load() != i; spins++ {
				if spins%1024 == 0 && time.Now().After(deadline) {
					return // the peer is not running beside us: give up
				}
			}
			x.Store(i + 1)
		}
	}()
	for i := int64(0); i < int64(2*n); i += 2 {
		for spins := 1; x.Load() != i; spins++ {
			if spins%1024 == 0 && time.Now().After(deadline) {
				<-done
				return -1
			}
		}
		x.Store(i + 1)
	}
	<-done
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}
