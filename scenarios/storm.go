package scenarios

// Storms: how a scenario lets the harness cancel its scopes at random
// (Config.Storm). A storm function may run on any goroutine, at any time
// between the scenario's Storm(f) and a little after its Storm(nil) (a chaos
// run starts each storm in a goroutine of its own). So it only cancels
// scopes, which is harmless once a round is over, and it takes no lock of
// the scenario's while it cancels: Cancel runs OnCancel hooks, and those
// may take the scenario's locks.

import (
	"context"
	"errors"
	"sync"

	"github.com/nimsync/nimsync/core"
)

// errStorm is the cause a storm cancels scopes with, so that a scenario can
// tell what a storm cancelled from what it cancelled itself.
var errStorm = errors.New("scenarios: storm")

// stormed reports whether s was cancelled by a storm (its own or an
// ancestor's).
func stormed(s *core.Scope) bool { return errors.Is(context.Cause(s), errStorm) }

// targets is a set of scopes a storm may cancel. Any goroutine may call its
// methods.
type targets struct {
	mu     sync.Mutex // guards scopes
	scopes []*core.Scope
}

func (t *targets) add(s ...*core.Scope) {
	t.mu.Lock()
	t.scopes = append(t.scopes, s...)
	t.mu.Unlock()
}

func (t *targets) reset() {
	t.mu.Lock()
	t.scopes = nil
	t.mu.Unlock()
}

// storm cancels one to three of the scopes, each chosen by 16 bits of seed,
// with errStorm. It cancels outside t.mu: Cancel runs hooks.
func (t *targets) storm(seed uint64) {
	t.mu.Lock()
	var victims []*core.Scope
	for k := 0; k < 3 && len(t.scopes) > 0; k++ {
		if b := (seed >> (16 * k)) & 0xffff; k == 0 || b%2 == 0 {
			victims = append(victims, t.scopes[(b>>1)%uint64(len(t.scopes))])
		}
	}
	t.mu.Unlock()
	for _, s := range victims {
		s.Cancel(errStorm)
	}
}
