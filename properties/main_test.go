package properties_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
	"go.uber.org/goleak"
)

// Leak-freedom: after the suite, the runtime's own counters are back to
// zero (no waiter linked in a wait queue, no task queued), and goroutines
// are back to baseline (the pool's idle workers exit within goleak's retry
// budget).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var st core.Stats
		for t0 := time.Now(); time.Since(t0) < time.Second; time.Sleep(time.Millisecond) {
			if st = core.ReadStats(); st.ParkedWaiters == 0 && st.QueuedTasks == 0 {
				break
			}
		}
		if st.ParkedWaiters != 0 || st.QueuedTasks != 0 {
			fmt.Fprintf(os.Stderr, "leak: after the suite, %d waiters parked and %d tasks queued\n", st.ParkedWaiters, st.QueuedTasks)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
