package chaos_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: the storm
// goroutines a run starts (Stop waits for them), the goroutines the canary
// and contract tests block in core, and the task pool's idle workers, which
// exit within 100 ms, inside goleak's retries.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
