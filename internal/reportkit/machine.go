package reportkit

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// Machine names where a report was measured. Its JSON form is the
// "machine" object of every report.json.
type Machine struct {
	CPU        string `json:"cpu"` // "" where the system does not say
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

// DescribeMachine describes the machine the process runs on. It reads
// /proc/cpuinfo; it may be called concurrently.
func DescribeMachine() Machine {
	return Machine{
		CPU:        CPUModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
	}
}

// Line describes m on one line: "AMD EPYC 7B13, 2 cores, GOMAXPROCS 2,
// go1.26.8 linux/amd64"; what m does not know is left out, and a machine
// that knows nothing is "—".
func (m Machine) Line() string {
	var parts []string
	if m.CPU != "" {
		parts = append(parts, m.CPU)
	}
	if m.Cores > 0 {
		parts = append(parts, fmt.Sprintf("%d cores", m.Cores))
	}
	if m.GOMAXPROCS > 0 {
		parts = append(parts, fmt.Sprintf("GOMAXPROCS %d", m.GOMAXPROCS))
	}
	osArch := m.OS + m.Arch
	if m.OS != "" && m.Arch != "" {
		osArch = m.OS + "/" + m.Arch
	}
	if goLine := strings.TrimSpace(m.GoVersion + " " + osArch); goLine != "" {
		parts = append(parts, goLine)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

// CPUModel returns the first "model name" of /proc/cpuinfo, or "" where
// there is none (not Linux, or a CPU that names itself otherwise).
func CPUModel() string {
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

// LineRTT measures how long a cache line takes to go from one core to
// another and back, in nanoseconds: two goroutines take turns to increment
// an atomic, n times each. It returns -1 if it has not finished by
// deadline (one P, or a busy machine where the two goroutines seldom run
// at once). On a VM the host may place two vCPUs close together or far
// apart, and a lock-free channel whose ends run on two cores pays this
// price per exchanged line, where a Go channel hands a woken goroutine to
// the waker's core; so the figure tells which machine the channel numbers
// come from. It keeps two Ps busy while it runs.
func LineRTT(n int, deadline time.Time) float64 {
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
