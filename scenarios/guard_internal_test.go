package scenarios

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGuard: a panic in a scenario's goroutine reaches Config.Fail with the
// value and the stack; without Fail it is raised again.
func TestGuard(t *testing.T) {
	var got error
	e := newEnv(context.Background(), "test", Config{Fail: func(err error) { got = err }})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer e.guard()
		panic(errors.New("broken"))
	}()
	wg.Wait()
	var pe *PanicError
	require.ErrorAs(t, got, &pe)
	require.Equal(t, "test", pe.Scenario)
	require.Contains(t, pe.Stack, "TestGuard")
	require.EqualError(t, errors.Unwrap(got), "broken")

	e = newEnv(context.Background(), "test", Config{})
	require.PanicsWithValue(t, "again", func() {
		defer e.guard()
		panic("again")
	})
}
