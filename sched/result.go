package sched

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"strings"
	"time"
)

// Event is one step of a run: the goroutine the strategy picked and the
// scheduling point it had stopped at ("sched.start" for its first step).
type Event struct {
	Step  int
	G     int
	Point string
}

// Result is what a run did. Decisions[i] == Trace[i].G; Hash is FNV-64a over
// the trace (see [TraceHash]), so two runs with equal hashes took the same
// steps through the same points.
type Result struct {
	Seed      uint64
	Strategy  Strategy
	Decisions []int
	Trace     []Event
	Hash      uint64
	Steps     int
	Now       time.Duration // virtual time at the end
	Failure   *Failure      // nil if every goroutine exited
	// Preempted are the steps at which the goroutine chosen preempted the
	// one that ran the step before: that one was runnable and had not
	// stopped at a Spin point (it could have gone on).
	Preempted []int
	// Waits are the moments a goroutine stopped being runnable (it parked,
	// blocked on a false condition, waits for a held mutex, sleeps or
	// quiesces), and Wakes those at which one became runnable again, each
	// in step order. For people and tools (the HTML trace's arrows): they
	// follow from the steps, and the trace hash does not cover them.
	Waits []Wait
	Wakes []Wake
}

// Wait is goroutine G no longer runnable after step Step: it waits at
// Point. Usually G ran the step and stopped at a Park, a Block or a Sleep;
// a goroutine at a Mutex.Lock stops being runnable when the step of
// another takes the mutex.
type Wait struct {
	Step  int    `json:"step"`
	G     int    `json:"g"`
	Point string `json:"point"`
}

// Wake is goroutine G, which waited, runnable again after step Step, which
// goroutine By ran (its Unpark, the condition it made true, the mutex it
// released); By is -1 if the clock woke G: a timer fired (a Sleep's end,
// a BlockFor's timeout).
type Wake struct {
	Step int `json:"step"`
	By   int `json:"by"`
	G    int `json:"g"`
}

// FailureKind says why a run failed.
type FailureKind uint8

const (
	// Deadlock: no goroutine runnable, none sleeping, some not exited.
	Deadlock FailureKind = iota + 1
	// Livelock: still going after Options.MaxSteps steps.
	Livelock
	// Panic: a goroutine panicked.
	Panic
	// Uncontrolled: the running goroutine reached no scheduling point within
	// Options.WallBound: it blocked or spun outside the scheduler.
	Uncontrolled
	// Divergence: a replay did not take the recorded steps.
	Divergence
)

var kindNames = [...]string{Deadlock: "deadlock", Livelock: "livelock", Panic: "panic", Uncontrolled: "uncontrolled", Divergence: "divergence"}

// String returns the kind's lower-case name, as in artifacts.
func (k FailureKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("FailureKind(%d)", k)
}

// Blocked is one goroutine's state in a deadlock report.
type Blocked struct {
	G      int
	Point  string
	Reason string // "parked", or which mutex it waits for and who holds it
	// Stack is the goroutine's stack when the deadlock was seen, as
	// runtime.Stack prints it. It is not part of Failure.Error, whose
	// text is the same on every replay: a stack holds addresses.
	Stack string
}

// Failure describes why a run failed; which fields are set depends on Kind.
type Failure struct {
	Kind FailureKind
	Step int // the step at which it was seen

	G     int    // Panic, Uncontrolled: the goroutine
	Point string // Panic, Uncontrolled: the last point it passed

	Blocked []Blocked     // Deadlock: every goroutine not exited
	Last    []Event       // Livelock: the last steps (up to 16)
	Value   any           // Panic: the value
	Stack   string        // Panic: the goroutine's stack at the panic
	Wall    time.Duration // Uncontrolled: the bound it exceeded

	Expected, Got string // Divergence: the recorded step and what happened
}

// Error describes the failure in one line.
func (f *Failure) Error() string {
	var b strings.Builder
	switch f.Kind {
	case Deadlock:
		fmt.Fprintf(&b, "sched: deadlock at step %d:", f.Step)
		for i, x := range f.Blocked {
			if i > 0 {
				b.WriteByte(';')
			}
			fmt.Fprintf(&b, " g%d at %q (%s)", x.G, x.Point, x.Reason)
		}
	case Livelock:
		fmt.Fprintf(&b, "sched: livelock: still running after %d steps; last:", f.Step)
		for _, e := range f.Last {
			fmt.Fprintf(&b, " g%d@%q", e.G, e.Point)
		}
	case Panic:
		fmt.Fprintf(&b, "sched: g%d panicked at step %d after %q: %v", f.G, f.Step, f.Point, f.Value)
	case Uncontrolled:
		fmt.Fprintf(&b, "sched: g%d reached no scheduling point within %v after %q at step %d: it blocks or spins outside the scheduler", f.G, f.Wall, f.Point, f.Step)
	case Divergence:
		fmt.Fprintf(&b, "sched: replay diverged at step %d: expected %s, got %s", f.Step, f.Expected, f.Got)
	default:
		fmt.Fprintf(&b, "sched: %v", f.Kind)
	}
	return b.String()
}

// TraceHash is FNV-64a over the trace: per event, step and goroutine as
// 8-byte little-endian integers, then the point and a zero byte.
func TraceHash(trace []Event) uint64 {
	h := newHash()
	for _, e := range trace {
		hashEvent(h, e)
	}
	return h.Sum64()
}

func newHash() hash.Hash64 { return fnv.New64a() }

func hashEvent(h hash.Hash64, e Event) {
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(e.Step))
	binary.LittleEndian.PutUint64(buf[8:], uint64(e.G))
	h.Write(buf[:])
	h.Write([]byte(e.Point))
	h.Write([]byte{0})
}
