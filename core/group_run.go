package core

// Run: a nursery, a group whose tasks cannot outlive the call that made it.

import (
	"context"
	"errors"
)

// Run is a nursery: it creates a group under ctx, calls body with it, and
// waits for the group's tasks before it returns, so no task outlives the
// call. An error from body fails the group as a task error would. Run
// returns what Wait returns (and re-panics as Wait does). If body panics
// (or calls runtime.Goexit), Run cancels the group, waits for its tasks and
// lets the panic go on; a task's panic is then dropped in its favour.
func Run(ctx context.Context, body func(g *Group) error, opts ...GroupOption) error {
	if body == nil {
		panic("core: Run: nil body")
	}
	g := NewGroup(ctx, opts...)
	ok := false
	defer func() {
		if !ok {
			g.Cancel(errBodyFailed)
			g.wait()
		}
	}()
	if err := body(g); err != nil && !planted(fpBugRunDropsBodyErr) {
		g.fail(err)
	}
	ok = true
	return g.Wait()
}

var errBodyFailed = errors.New("core: Run: body panicked or called runtime.Goexit")
