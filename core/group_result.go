package core

// ResultGroup: a Group whose tasks return a value, collected in the order
// the tasks were submitted.

import (
	"context"
)

// ResultGroup is a Group whose tasks return a value: Wait returns the
// values in the order the tasks were submitted. Create one with
// [NewResultGroup]; the zero value is not usable.
type ResultGroup[T any] struct {
	g      *Group
	mu     mutex
	chunks []*[resultChunk]T // results; a chunk never moves once allocated
	n      int               // results reserved
}

const resultChunk = 256

// NewResultGroup returns a result group under parent, with the options of
// [NewGroup].
func NewResultGroup[T any](parent context.Context, opts ...GroupOption) *ResultGroup[T] {
	return &ResultGroup[T]{g: NewGroup(parent, opts...)}
}

// Scope returns the group's scope.
func (r *ResultGroup[T]) Scope() *Scope { return &r.g.scope }

// Cancel cancels the group, as [Group.Cancel].
func (r *ResultGroup[T]) Cancel(cause error) { r.g.Cancel(cause) }

// Go calls fn in the group, as [Group.Go], and reserves the next result
// slot for its value.
func (r *ResultGroup[T]) Go(fn func(ctx context.Context) (T, error)) {
	if fn == nil {
		panic("core: ResultGroup.Go: nil function")
	}
	if r.g.waited.Load() {
		r.g.start(task0, true) // panics with Go's message
	}
	slot := r.reserve()
	if r.g.start(task0, true) { // a blocking start counts the task (group.go, invariant 5), but under a planted bug
		r.g.queue(r.wrap(slot, fn))
	}
}

// TryGo calls fn if it can start now, as [Group.TryGo]; only then does it
// reserve a result slot.
func (r *ResultGroup[T]) TryGo(fn func(ctx context.Context) (T, error)) bool {
	if fn == nil {
		panic("core: ResultGroup.TryGo: nil function")
	}
	if plantedBugs && planted(fpBugResultSlotRefused) {
		return r.bugResultSlotForRefusedTryGo(fn)
	}
	if !r.g.start(task0, false) {
		return false
	}
	r.g.queue(r.wrap(r.reserve(), fn))
	return true
}

func (r *ResultGroup[T]) wrap(slot *T, fn func(context.Context) (T, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		v, err := fn(ctx)
		*slot = v
		return err
	}
}

func (r *ResultGroup[T]) reserve() *T {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.n
	if i/resultChunk == len(r.chunks) {
		r.chunks = append(r.chunks, new([resultChunk]T))
	}
	r.n++
	return &r.chunks[i/resultChunk][i%resultChunk]
}

// Wait waits as [Group.Wait] does and returns one value per Go call (and
// per successful TryGo), in call order: what the task returned, even with
// an error, or the zero value for a task that called runtime.Goexit. If a
// task panicked, Wait panics as [Group.Wait] does.
func (r *ResultGroup[T]) Wait() ([]T, error) {
	err := r.g.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]T, r.n)
	for i := range out {
		out[i] = r.chunks[i/resultChunk][i%resultChunk]
	}
	return out, err
}
