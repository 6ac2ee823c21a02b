package properties_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Leak-freedom: after the suite, goroutines are back to baseline (the
// pool's idle workers exit within goleak's retry budget).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
