package properties_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nimsync/nimsync/core"
	"go.uber.org/goleak"
)

// Leak-freedom: after the suite, the runtime's own counters are back to
// zero (no waiter linked in a wait queue, no task queued or live, no scope
// linked under a live parent), and goroutines
// are back to baseline (the pool's idle workers exit within goleak's retry
// budget). After the chaos build's self-test, "zero" is what its planted
// bugs left (plantedSkew): some corrupt a counter for good.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := settle(plantedSkew); err != nil {
			fmt.Fprintf(os.Stderr, "leak after the suite: %v\n", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(plantedLeftovers...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// plantedSkew is what the self-test's planted bugs left in the runtime's
// counters (zero unless it ran), and plantedLeftovers ignores the
// goroutines they left blocked for good.
var (
	plantedSkew      core.Stats
	plantedLeftovers []goleak.Option
)
