//go:build chaos

package properties_test

// Property 10, linearizability under the serialized mode (issue 14). A
// generated episode runs a few goroutines, each with a short program of
// Send, TrySend, Recv, TryRecv and Close on one channel (senders and
// receivers as the flavor's contract allows), one at a time under the
// seeded scheduler; once every goroutine has returned or waits (parked, for
// a value or a slot that will not come), the main goroutine closes the
// channel, which ends every wait. Each operation is recorded with the
// scheduler's step counter as its clock: sched.G.Step() before the call and
// after the return. What must hold:
//
//   - The history is linearizable as the bounded FIFO queue that can be
//     closed of TestLinearizable (fifoModel, linearizability_test.go):
//     FIFO, exactly once, TrySend ErrFull and TryRecv ErrEmpty only when
//     the queue is full or empty at some step of the call, ErrClosed only
//     after Close and, for a receive, once the queue is drained, a second
//     Close ErrClosed (CHAN-LIN, CHAN-TRY and the rules they imply).
//   - The episode ends: no deadlock, no livelock, no panic.
//   - A replayed history is identical: every episode is replayed once from
//     its decision list, and the replay's history must render as the
//     recorded one did, clock values included; a failing episode's verdict
//     carries its history and the history's hash, so every replay of its
//     artifact (the harness and the serialized self-test compare verdicts)
//     checks that too.
//
// The clock. Between two scheduling points a goroutine runs alone, and each
// step has its own value of G.Step() (the steps taken so far), so an
// operation's effect happens at a step between its call's and its return's
// values, and the real-time order of operations of different goroutines is
// the order of these values. A goroutine's next call comes in the same step
// as its previous return, so a call at step s is stamped 2s+1 and a return
// at step s 2s: each goroutine's operations stay ordered, and operations of
// different goroutines compare as their steps do. Every operation passes at
// least one scheduling point (an atomic of core), so a call's stamp is
// below its return's.

import (
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/nimsync/nimsync/sched"
)

// The operations of a program: the blocking operation of the goroutine's
// side (Send, Recv), its Try form (TrySend, TryRecv), and Close.
const (
	linBlocking = iota
	linTry
	linClose
	nLinOps
	linEnd = nLinOps // generated only: the program ends before it (norm drops it)
)

// serialLinCase is one generated episode. It is JSON in a failure artifact.
type serialLinCase struct {
	Flavor    int     `json:"flavor"`    // index into chantest.Flavors
	Cap       int     `json:"cap"`       // requested capacity, 1..4
	Senders   int     `json:"senders"`   // 1..3, 1 for a single-sender flavor
	Receivers int     `json:"receivers"` // 1..3, 1 for a single-receiver flavor
	Progs     [][]int `json:"progs"`     // per goroutine, senders first: its operations (linBlocking, linTry, linClose), 1..4
	Strategy  string  `json:"strategy"`
	Seed      uint64  `json:"seed"`
}

func genSerialLinCase(strategy string) gopter.Gen {
	op := gen.Weighted([]gen.WeightedGen{{Weight: 5, Gen: gen.Const(linBlocking)}, {Weight: 5, Gen: gen.Const(linTry)},
		{Weight: 1, Gen: gen.Const(linClose)}, {Weight: 2, Gen: gen.Const(linEnd)}})
	return gen.Struct(reflect.TypeOf(serialLinCase{}), map[string]gopter.Gen{
		"Flavor":    gen.IntRange(0, len(chantest.Flavors)-1),
		"Cap":       gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.Const(1)}, {Weight: 2, Gen: gen.IntRange(2, 4)}}),
		"Senders":   gen.IntRange(1, 3),
		"Receivers": gen.IntRange(1, 3),
		"Progs":     gen.SliceOfN(6, gen.SliceOfN(4, op)),
		"Strategy":  genStrategy(strategy),
		"Seed":      gen.UInt64(),
	}).Map(func(c serialLinCase) serialLinCase { return c.norm() })
}

// norm makes a case valid, generated or shrunk: goroutines within the
// flavor's contract, one program each of one to four known operations,
// ending before its first linEnd past the first operation.
func (c serialLinCase) norm() serialLinCase {
	c.Flavor = min(max(c.Flavor, 0), len(chantest.Flavors)-1)
	f := chantest.Flavors[c.Flavor]
	c.Cap = min(max(c.Cap, 1), 4)
	c.Senders, c.Receivers = f.Senders(min(max(c.Senders, 1), 3)), f.Receivers(min(max(c.Receivers, 1), 3))
	progs := make([][]int, c.Senders+c.Receivers)
	for k := range progs {
		var p []int
		if k < len(c.Progs) {
			p = c.Progs[k]
		}
		var q []int
		for _, op := range p {
			if op == linEnd && len(q) > 0 || len(q) == 4 {
				break
			}
			if op != linEnd {
				q = append(q, min(max(op, 0), nLinOps-1))
			}
		}
		if len(q) == 0 {
			q = []int{linBlocking}
		}
		progs[k] = q
	}
	c.Progs = progs
	if _, err := sched.ParseStrategy(c.Strategy); err != nil {
		c.Strategy = "random"
	}
	return c
}

func (c serialLinCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cap %d:", chantest.Flavors[c.Flavor].Type(), c.Cap)
	for k, p := range c.Progs {
		send := k < c.Senders
		b.WriteString(" g" + fmt.Sprint(k) + "[")
		for i, op := range p {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(linOpName(op, send))
		}
		b.WriteByte(']')
	}
	return b.String() + fmt.Sprintf("; %s seed %d", c.Strategy, c.Seed)
}

func linOpName(op int, send bool) string {
	switch {
	case op == linClose:
		return "Close"
	case send && op == linTry:
		return "TrySend"
	case send:
		return "Send"
	case op == linTry:
		return "TryRecv"
	}
	return "Recv"
}

func (c serialLinCase) test() string     { return "TestSerialLinearizability" }
func (c serialLinCase) strategy() string { return c.Strategy }
func (c serialLinCase) episode(r *chaos.Run, a *sched.Artifact) (*sched.Result, string) {
	return runSerialLin(r, c, a)
}

// linHistory is what an episode's goroutines recorded: per client (each
// program's goroutine, then the main goroutine's Close), its operations in
// order. They run one at a time, so it needs no lock.
type linHistory struct {
	cap     int
	streams [][]porcupine.Operation
	gids    []int // per client, its goroutine's id
}

// linHistories holds a failing episode's history, by its result, until
// its HTML trace draws it (serialHistorian).
var linHistories sync.Map // *sched.Result → []sched.HistoryOp

func (c serialLinCase) history(res *sched.Result) []sched.HistoryOp {
	ops, _ := linHistories.LoadAndDelete(res)
	h, _ := ops.([]sched.HistoryOp)
	return h
}

// steps returns the history for the HTML trace: each operation in its
// goroutine's lane, from the step it was called in (a call stamped 2s+1
// came in step s−1) to the one it returned in (a return stamped 2s: s−1).
func (h *linHistory) steps() []sched.HistoryOp {
	m := fifoModel(max(h.cap, 1))
	var out []sched.HistoryOp
	for _, op := range h.ops() {
		g := -1
		if op.ClientId < len(h.gids) {
			g = h.gids[op.ClientId]
		}
		out = append(out, sched.HistoryOp{G: g, Call: int(op.Call-1)/2 - 1, Return: int(op.Return)/2 - 1, Label: m.DescribeOperation(op.Input, op.Output)})
	}
	return out
}

// ops returns the history, client by client: the same order in every run
// that took the same steps.
func (h *linHistory) ops() []porcupine.Operation {
	var ops []porcupine.Operation
	for _, s := range h.streams {
		ops = append(ops, s...)
	}
	return ops
}

// render prints the history, one operation a line with its client and
// clock, and returns it with its FNV-64a hash.
func (h *linHistory) render() (string, uint64) {
	m := fifoModel(max(h.cap, 1))
	var b strings.Builder
	for _, op := range h.ops() {
		fmt.Fprintf(&b, "c%d %s [%d,%d]\n", op.ClientId, m.DescribeOperation(op.Input, op.Output), op.Call, op.Return)
	}
	f := fnv.New64a()
	f.Write([]byte(b.String()))
	return b.String(), f.Sum64()
}

// body returns the episode's main goroutine, recording into h.
func (c serialLinCase) body(h *linHistory) func(*sched.G) {
	return func(g *sched.G) {
		ch := chantest.New[int](chantest.Flavors[c.Flavor], c.Cap)
		h.cap = ch.Cap()
		h.streams = make([][]porcupine.Operation, len(c.Progs)+1)
		h.gids = make([]int, len(c.Progs)+1)
		h.gids[len(c.Progs)] = g.ID()
		rec := func(client int, in qIn, out qOut, call, ret int) {
			ret = max(ret, call) // an operation within one step is atomic there (none is: see the top of this file)
			h.streams[client] = append(h.streams[client], porcupine.Operation{ClientId: client, Input: in, Output: out, Call: int64(call), Return: int64(ret)})
		}
		left := len(c.Progs)
		for k, prog := range c.Progs {
			send := k < c.Senders
			g.Go(func(pg *sched.G) {
				h.gids[k] = pg.ID()
				defer func() { left-- }()
				seq := 0
				for _, op := range prog {
					call := 2*pg.Step() + 1
					switch {
					case op == linClose:
						err := ch.Close()
						rec(k, qIn{Kind: kClose}, qOut{Err: errName(err)}, call, 2*pg.Step())
					case send:
						v := k<<20 | seq
						seq++
						kind, err := kSend, error(nil)
						if op == linTry {
							kind, err = kTrySend, ch.TrySend(v)
						} else {
							err = ch.Send(context.Background(), v)
						}
						rec(k, qIn{kind, v}, qOut{Err: errName(err)}, call, 2*pg.Step())
					default:
						kind, v, err := kRecv, 0, error(nil)
						if op == linTry {
							kind = kTryRecv
							v, err = ch.TryRecv()
						} else {
							v, err = ch.Recv(context.Background())
						}
						rec(k, qIn{Kind: kind}, qOut{V: v, Err: errName(err)}, call, 2*pg.Step())
					}
				}
			})
		}
		// Once every goroutine has returned or waits for what will not
		// come, Close ends the waits; it is an operation of the history.
		g.Quiesce("settle")
		call := 2*g.Step() + 1
		err := ch.Close()
		rec(len(c.Progs), qIn{Kind: kClose}, qOut{Err: errName(err)}, call, 2*g.Step())
		g.Block("wait for the programs", func() bool { return left == 0 })
	}
}

// linOptions bounds an episode: at most six goroutines of four operations.
var linOptions = sched.Options{MaxSteps: 5000, Horizon: 300} // PCT's horizon: about a typical episode's length (at most 380 steps)

// runSerialLin runs case c as a serialized episode of r, with its strategy
// (a == nil) or following the recorded schedule a, and returns the result
// and the verdict. An episode run with its strategy is also replayed once
// from its decision list, and its replay's history must be the recorded one.
func (c serialLinCase) program() (sched.Options, func() (func(*sched.G), func(*sched.Result) string)) {
	c = c.norm()
	return linOptions, func() (func(*sched.G), func(*sched.Result) string) {
		h := &linHistory{}
		return c.body(h), func(res *sched.Result) string { return linVerdict(res, h) }
	}
}

func runSerialLin(r *chaos.Run, c serialLinCase, a *sched.Artifact) (*sched.Result, string) {
	c = c.norm()
	h := &linHistory{}
	var res *sched.Result
	if a == nil {
		strat, err := sched.ParseStrategy(c.Strategy)
		if err != nil {
			panic(err)
		}
		res = r.Serialize(c.Seed, strat, linOptions, c.body(h))
	} else {
		res = r.ReplaySerial(a, linOptions, c.body(h))
	}
	why := linVerdict(res, h)
	if why != "" && a == nil {
		linHistories.Store(res, h.steps())
	}
	if a != nil || res.Failure != nil && res.Failure.Kind == sched.Divergence {
		return res, why
	}
	h2 := &linHistory{}
	rep := r.ReplaySerial(res.Artifact(), linOptions, c.body(h2))
	got, gotHash := h2.render()
	want, wantHash := h.render()
	switch {
	case rep.Failure != nil && rep.Failure.Kind == sched.Divergence:
		return res, fmt.Sprintf("the episode's replay diverged: %v", rep.Failure)
	case rep.Hash != res.Hash || gotHash != wantHash:
		return res, fmt.Sprintf("the episode's replay took the trace %016x (recorded %016x) and recorded the history %016x:\n%s\nnot the recorded %016x:\n%s", rep.Hash, res.Hash, gotHash, got, wantHash, want)
	}
	return res, why
}

// linVerdict checks an episode's history against fifoModel; "" means it
// kept the rules. The verdict of a failure names the history's hash and
// prints it, so that a replay with another history ends with another
// verdict.
func linVerdict(res *sched.Result, h *linHistory) string {
	hist, hash := h.render()
	ops := h.ops()
	if res.Failure != nil {
		return fmt.Sprintf("%v; history %016x (%d operations):\n%s", res.Failure, hash, len(ops), hist)
	}
	if porcupine.CheckOperations(fifoModel(h.cap), ops) {
		return ""
	}
	return fmt.Sprintf("not linearizable as a FIFO queue of capacity %d: history %016x (%d operations, clock 2×step):\n%s", h.cap, hash, len(ops), hist)
}

// TestSerialLinearizability: property 10 (serial_lin_test.go), every
// channel flavor linearizable as a bounded FIFO queue under the serialized
// mode, with histories clocked by the scheduler's steps.
func TestSerialLinearizability(t *testing.T) {
	serialProperty[serialLinCase](t, "a serialized episode's history, clocked by steps, is linearizable as a FIFO queue and replays identically", genSerialLinCase)
}
