package scenarios

// The checkers every scenario shares: a list of faults, an exactly-once
// ledger with per-receiver order cursors, and the leak check.
//
// Invariants:
//
//  1. A ledger holds one bit per value (source, seq) that may be sent. The
//     bit is set by an atomic Or that returns the old word, so of two
//     receivers that both got the same value exactly one sees the bit set
//     already, and that one reports the duplicate, however they race.
//  2. A cursor belongs to one receiving goroutine; it is never shared, so
//     its last-seen table needs no synchronization.
//  3. verify runs after every goroutine that marks the ledger has returned
//     (sync.WaitGroup.Wait or Group.Wait orders their Ors before it), so it
//     reads the final bits.
//  4. faults keeps the first maxDetails details and counts the rest; its
//     count is atomic, so a hot path that asks failed() takes no lock.
//  5. A run stops at its first violation. The violation is recorded the
//     moment it is seen (a duplicate or a value nobody sent, at the
//     receive that got it: mark), and recording it cancels the run's abort
//     context (env.ctx, flow.go). The run's goroutines operate under that
//     context and their loops return once failed() is true, so a bug that
//     hands out values for ever (a receive that never reports ErrClosed)
//     ends the run at once instead of running it for ever. What follows a
//     stop (an operation cancelled by it, values left unreceived) is its
//     consequence and is not recorded: verify checks nothing once failed.

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nimsync/nimsync/core"
)

// maxDetails is how many violations a Violation's Detail spells out.
const maxDetails = 5

// errFailed is the cause a run cancels its own scopes with when it stops at
// its first violation (invariant 5).
var errFailed = errors.New("scenarios: the run stopped at its first violation")

// faults collects the violations of one run. Any goroutine may call add.
type faults struct {
	name string
	n    atomic.Int64 // violations seen (invariant 4)
	stop func()       // called by the first add (invariant 5); nil: none

	mu      sync.Mutex // guards invs and details
	invs    []string
	details []string
}

func newFaults(name string) *faults { return &faults{name: name} }

// add records a violation of invariant inv, described by format and args.
// The first one stops the run (invariant 5).
func (f *faults) add(inv, format string, args ...any) {
	n := f.n.Add(1)
	if n == 1 && f.stop != nil {
		defer f.stop() // after the detail is recorded: the first detail names the cause
	}
	if n > maxDetails {
		return
	}
	d := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.invs = append(f.invs, inv)
	f.details = append(f.details, d)
	f.mu.Unlock()
}

// failed reports whether any violation was recorded.
func (f *faults) failed() bool { return f.n.Load() > 0 }

// err returns nil, or a *Violation naming the first invariant recorded and
// spelling out the first few violations.
func (f *faults) err() error {
	n := f.n.Load()
	if n == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for i, d := range f.details {
		if i > 0 {
			b.WriteString("; ")
		}
		if f.invs[i] != f.invs[0] {
			fmt.Fprintf(&b, "[%s] ", f.invs[i])
		}
		b.WriteString(d)
	}
	if n > int64(len(f.details)) {
		fmt.Fprintf(&b, " (%d violations in all)", n)
	}
	return &Violation{Scenario: f.name, Invariant: f.invs[0], Detail: b.String()}
}

// ledger is the exactly-once bookkeeping of a run: one bit per value
// (source, seq), with sources in [0, sources) and seq in [0, per). Any
// goroutine may call mark (invariant 1); verify runs after them
// (invariant 3). It costs one bit per value.
type ledger struct {
	f     *faults
	per   int // values per source
	words int // bitset words per source
	bits  []atomic.Uint64
	// sent[src] is how many values source src sent: per, unless its sender
	// stopped early at the run's end (flow.go, invariant 5) and said so
	// with stop. Written only by src's sender, read by verify after the
	// join (invariant 3).
	sent []int
}

// stop records that source src sent values [0, n) only; its sender calls
// it before its part of the close.
func (l *ledger) stop(src, n int) { l.sent[src] = n }

// sentBy returns how many values src sent, for verify.
func (l *ledger) sentBy(src int) int { return l.sent[src] }

func newLedger(f *faults, sources, per int) *ledger {
	words := (per + 63) / 64
	sent := make([]int, sources)
	for i := range sent {
		sent[i] = per
	}
	return &ledger{f: f, per: per, words: words, bits: make([]atomic.Uint64, sources*words), sent: sent}
}

// mark records that who received value seq of source src. It reports false,
// and records the violation at once, stopping the run (invariant 5), if that
// value was received before ("no duplicate") or could not have been sent
// ("no phantom value").
func (l *ledger) mark(src, seq int, who string) bool {
	if src < 0 || seq < 0 || seq >= l.per || src*l.words >= len(l.bits) {
		l.f.add("no phantom value", "%s got value %d of sender %d, which nobody sent", who, seq, src)
		return false
	}
	bit := uint64(1) << (seq % 64)
	if l.bits[src*l.words+seq/64].Or(bit)&bit != 0 { // invariant 1
		l.f.add("no duplicate", "%s got value %d of sender %d a second time", who, seq, src)
		return false
	}
	return true
}

// verify checks that exactly the values [0, sent(src)) of every source were
// marked, and records what was lost ("no loss") or marked beyond what was
// sent ("no phantom value"), with the first few values involved. It checks
// nothing once the run has failed: the run stopped early (invariant 5).
func (l *ledger) verify(sent func(src int) int) {
	if l.f.failed() {
		return
	}
	for src := range len(l.bits) / max(l.words, 1) {
		n := sent(src)
		var lost, extra []int
		nLost, nExtra := 0, 0
		for w := range l.words {
			word := l.bits[src*l.words+w].Load()
			lo := w * 64
			want := rangeMask(max(0, min(64, n-lo)))
			if word == want {
				continue
			}
			for missing := want &^ word; missing != 0; missing &= missing - 1 {
				nLost++
				if len(lost) < maxDetails {
					lost = append(lost, lo+bits.TrailingZeros64(missing))
				}
			}
			for over := word &^ want; over != 0; over &= over - 1 {
				nExtra++
				if len(extra) < maxDetails {
					extra = append(extra, lo+bits.TrailingZeros64(over))
				}
			}
		}
		if nLost > 0 {
			l.f.add("no loss", "%d of %d values of sender %d never received, first %v", nLost, n, src, lost)
		}
		if nExtra > 0 {
			l.f.add("no phantom value", "%d values of sender %d received though never sent (it sent %d), first %v", nExtra, src, n, extra)
		}
	}
}

// rangeMask returns a word with the low n bits set.
func rangeMask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return uint64(1)<<n - 1
}

// all returns a sent function for verify: every source sent n values.
func all(n int) func(int) int { return func(int) int { return n } }

// cursor is one receiver's view of a ledger: it marks each value and checks
// that the receiver sees each source's values in increasing order. A cursor
// is owned by one goroutine (invariant 2).
type cursor struct {
	l    *ledger
	who  string
	last []int // per source: the highest seq seen, or -1
}

func (l *ledger) cursor(who string) *cursor {
	last := make([]int, len(l.bits)/max(l.words, 1))
	for i := range last {
		last[i] = -1
	}
	return &cursor{l: l, who: who, last: last}
}

// take checks and records value seq of source src.
func (c *cursor) take(src, seq int) {
	if !c.l.mark(src, seq, c.who) {
		return
	}
	if seq < c.last[src] {
		c.l.f.add("per-sender order", "%s got value %d of sender %d after value %d", c.who, seq, src, c.last[src])
		return
	}
	c.last[src] = seq
}

// noLeak waits up to a second for the runtime's counters to come back to
// base, their values before the run: no goroutine of the run linked in a
// channel's wait queue, no task of it queued. (The counters are the
// process's: a serialized run that failed earlier and was ended where its
// goroutines stood leaves its waiters linked for good.) The pool settles its bookkeeping asynchronously, so it polls,
// every millisecond (of the scheduler's clock under a Sched: sched.go,
// invariant 3; core.ReadStats, whose counters are the run's own task
// pool's in the serialized mode, must then be read by a goroutine of the
// run, not in a ready func).
func noLeak(name string, s Sched, base core.Stats) error {
	e := &env{sched: s}
	for waited := time.Duration(0); ; waited += time.Millisecond {
		st := core.ReadStats()
		parked, queued := st.ParkedWaiters-base.ParkedWaiters, st.QueuedTasks-base.QueuedTasks
		if parked <= 0 && queued <= 0 {
			return nil
		}
		if waited >= time.Second {
			return &Violation{Scenario: name, Invariant: "no leak",
				Detail: fmt.Sprintf("%d parked waiters and %d queued tasks remain 1 s after the run ended", parked, queued)}
		}
		e.sleep(time.Millisecond)
	}
}

// settle waits for cond for up to a second, for counters that a straggling
// canceller (a storm finishing its walk, say) may still be updating; cond
// only reads.
func (e *env) settle(cond func() bool) bool { return e.waitFor(cond, time.Second) }

// mix is splitmix64's finalizer: it derives well-spread seeds from a seed
// and an index, for work that must not share a *rand.Rand.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
