package stacks_test

import (
	"testing"
	"time"

	"github.com/nimsync/nimsync/internal/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// blockHere blocks on ch until it is closed; its name is the frame the
// test looks for.
func blockHere(ch chan struct{}) { <-ch }

func TestParkedIn(t *testing.T) {
	ch := make(chan struct{})
	done := make(chan struct{})
	const n = 3
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			blockHere(ch)
		}()
	}
	require.Eventually(t, func() bool { return stacks.ParkedIn("stacks_test.blockHere") == n },
		5*time.Second, 100*time.Microsecond, "the %d goroutines block in blockHere", n)
	assert.Zero(t, stacks.ParkedIn("stacks_test.blockHere", "no.such.Frame"), "every frame must be in the stack")
	assert.Zero(t, stacks.ParkedIn("stacks_test.neverCalled"))
	close(ch)
	for range n {
		<-done
	}
	assert.Zero(t, stacks.ParkedIn("stacks_test.blockHere"), "none is blocked once they returned")
}
