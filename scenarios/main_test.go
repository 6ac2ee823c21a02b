package scenarios_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a scenario leaves a goroutine behind. The
// task pool's idle workers exit within 100 ms, inside goleak's retries.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
