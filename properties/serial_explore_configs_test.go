//go:build chaos

package properties_test

// The small configurations of the serialized properties that the bounded
// exhaustive search runs (serial_explore_test.go): a few goroutines, an
// operation or two each, chosen so that each races what its property's
// rules are about. Each is a case of its property, run through the
// property's own program() and checked by its own verdict.

import (
	"fmt"
	"reflect"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/internal/chantest"
)

// exhaustiveConfig is a small configuration of a serialized property.
type exhaustiveConfig struct {
	name string
	c    serialEpisode
}

// plan is the fault plan cfg's search runs under, with bugs planted: no
// fault, but the scope configurations' sleeps (scsWalkSleeps).
func (cfg exhaustiveConfig) plan(bugs map[string]chaos.Action) chaos.Plan {
	p := chaos.Plan{Seed: 1, Bugs: bugs}
	if _, ok := cfg.c.(serialScopeCase); ok {
		p.Points = scsWalkSleeps
	}
	return p
}

// exhaustiveChanConfigs are property 8's small configurations, cheapest
// search first: a cancellation racing a parked receive, a Close with values
// buffered, two senders racing into one receiver, a batch sent to receivers
// that may all be parked, a Close racing the second sender's Send, one
// sender feeding two receivers. Every flavor is there: SPSC once, MPSC
// and MPMC with two senders, SPMC with two receivers.
var exhaustiveChanConfigs = []exhaustiveConfig{
	{"a cancel racing a parked receive: SPSC, capacity 1", serialCase{Flavor: flavorIndex(chantest.SPSC), Cap: 1, Senders: 1, Receivers: 1, PerSender: 1, CancelAt: 1}},
	{"values buffered at Close: SPMC, capacity 2", serialCase{Flavor: flavorIndex(chantest.SPMC), Cap: 2, Senders: 1, Receivers: 1, PerSender: 2, CloseEarly: true}},
	{"two senders, one receiver: MPSC, capacity 1", serialCase{Flavor: flavorIndex(chantest.MPSC), Cap: 1, Senders: 2, Receivers: 1, PerSender: 1}},
	{"two senders, one receiver: MPMC, capacity 1", serialCase{Flavor: flavorIndex(chantest.MPMC), Cap: 1, Senders: 2, Receivers: 1, PerSender: 1}},
	{"a batch of two to two receivers of one value each: SPMC, capacity 2", serialCase{Flavor: flavorIndex(chantest.SPMC), Cap: 2, Senders: 1, Receivers: 2, PerSender: 2, Mode: modeBatch, Quota: 1}},
	{"Close racing a Send: MPSC, capacity 1", serialCase{Flavor: flavorIndex(chantest.MPSC), Cap: 1, Senders: 2, Receivers: 1, PerSender: 1, CloseEarly: true}},
	{"one sender, two receivers: SPMC, capacity 1", serialCase{Flavor: flavorIndex(chantest.SPMC), Cap: 1, Senders: 1, Receivers: 2, PerSender: 1}},
}

// exhaustiveGroupConfigs are small configurations of properties 9 and 13,
// each two tasks or fewer: failures, a panic, a Goexit, cancellations (of
// the group or its parent) racing tasks and Wait, the only slot of a limit
// held, a Go blocked on it while the task that holds it ends, a short
// GoRange, a spawning task (one beside a Go under a limit: two goroutines
// take slots at once), a ResultGroup's Go beside a TryGo, and Run's body
// failing beside a task.
var exhaustiveGroupConfigs = []exhaustiveConfig{
	{"a task failing while another spawns one: Group", serialGroupCase{Tasks: []groupTask{{Outcome: outErr}, {Spawn: true}}}},
	{"a cancel racing a task and Wait: Group", serialGroupCase{Tasks: []groupTask{{Yields: 1}}, CancelAt: 1}},
	{"a TryGo beside a task holding the only slot: Group, limit 1", serialGroupCase{Limit: 1, Tasks: []groupTask{{Yields: 1}, {Via: 1}}}},
	{"two tasks failing: Group", serialGroupCase{Tasks: []groupTask{{Outcome: outErr, Yields: 1}, {Outcome: outErr}}}},
	{"a task failing beside another: Group, all errors", serialGroupCase{AllErrors: true, Tasks: []groupTask{{Outcome: outErr}, {Yields: 1}}}},
	{"a task panicking: Group", serialGroupCase{Tasks: []groupTask{{Outcome: outPanic}, {Yields: 1}}}},
	{"a task calling Goexit beside one waiting for the cancellation: Group", serialGroupCase{Tasks: []groupTask{{Outcome: outGoexit, Yields: 1}, {Outcome: outWaitCancel}}}},
	{"a TryGo after a failure: Group", serialGroupCase{Tasks: []groupTask{{Outcome: outErr}, {Via: 1, Yields: 1}}}},
	{"a Go blocked on the only slot when the group is cancelled: Group, limit 1", serialGroupCase{Limit: 1, Tasks: []groupTask{{Yields: 3}, {}}, CancelAt: 1}},
	{"a GoRange of two whose first item fails: Group, limit 1", serialGroupCase{Limit: 1, Tasks: []groupTask{{Via: 2, RangeN: 2, Outcome: outErr}}}},
	{"a cancel of the group's parent racing its task: Group", serialGroupCase{Tasks: []groupTask{{Yields: 2}}, CancelAt: 1, CancelParent: true}},
	{"a task spawning one, Wait twice: Group", serialGroupCase{Tasks: []groupTask{{Spawn: true, Yields: 1}}}},
	{"a Go blocked on the only slot while a task ends: Group, limit 1", serialGroupCase{Limit: 1, Tasks: []groupTask{{Yields: 1}, {}}}},
	{"a task spawning one beside a Go under a limit of two: Group, limit 2", serialGroupCase{Limit: 2, Tasks: []groupTask{{Spawn: true}, {}}}},
	{"Go beside a TryGo under a limit of one: ResultGroup", serialResultCase{Limit: 1, Tasks: []resultTask{{Yields: 1}, {TryGo: true}}}},
	{"the body failing beside a task: Run", serialResultCase{Run: true, BodyFails: true, Tasks: []resultTask{{Yields: 1}}}},
}

// exhaustiveLinConfigs are property 10's small configurations: each
// goroutine's short program on one channel, its history checked against
// the bounded FIFO queue (the main goroutine's Close, once every program
// has returned or waits, is in each). A TrySend beside a Send and a Recv
// (MPSC at capacity 2, so that the queue is never full and ErrFull never
// linearizable), two senders and one receiver on each flavor that has two
// senders, Close racing a Send, one sender and two receivers, and Try
// operations on a full and an empty ring.
var exhaustiveLinConfigs = []exhaustiveConfig{
	{"history: Try operations on a full and an empty ring: SPSC, capacity 1", linConfig(chantest.SPSC, 1, []int{linTry, linTry}, []int{linTry, linBlocking})},
	{"history: Close racing a Send: SPSC, capacity 1", linConfig(chantest.SPSC, 1, []int{linBlocking, linBlocking}, []int{linBlocking, linClose})},
	{"history: a TrySend beside a Send and a Recv: MPSC, capacity 2", linConfig(chantest.MPSC, 2, []int{linBlocking}, []int{linTry}, []int{linBlocking})},
	{"history: two senders, one receiver: MPMC, capacity 1", linConfig(chantest.MPMC, 1, []int{linBlocking}, []int{linBlocking}, []int{linBlocking})},
	{"history: one sender, two receivers: SPMC, capacity 1", linConfig(chantest.SPMC, 1, []int{linBlocking, linTry}, []int{linBlocking}, []int{linTry})},
}

// linConfig is a case of property 10 on flavor f with capacity cp: the
// senders' programs, then the receivers' (as many senders as the flavor
// takes, at most two; the rest receive).
func linConfig(f chantest.Flavor, cp int, progs ...[]int) serialLinCase {
	senders := f.Senders(2)
	if len(progs) < 3 {
		senders = 1
	}
	return serialLinCase{Flavor: flavorIndex(f), Cap: cp, Senders: senders, Receivers: len(progs) - senders, Progs: progs}
}

// exhaustiveContractConfigs are property 11's small configurations: a
// second goroutine entering a single side, on each of the four single
// sides, while the first is inside its operation: as it enters (the
// search preempts it anywhere), after a yield, or once it has parked.
var exhaustiveContractConfigs = []exhaustiveConfig{
	{"a Send once the first sender has parked: SPSC senders", serialContractCase{Side: 0, Op: 1, Settle: true}},
	{"a TryRecv as the first receiver enters: SPSC receivers", serialContractCase{Side: 1, Op: 0}},
	{"a batch send a yield after the first sender entered: SPMC senders", serialContractCase{Side: 2, Op: 2, Yields: 1}},
	{"a Recv once the first receiver has parked: MPSC receivers", serialContractCase{Side: 3, Op: 1, Settle: true}},
	{"a batch receive as the first receiver enters: MPSC receivers", serialContractCase{Side: 3, Op: 2}},
}

// exhaustiveScopeConfigs are property 12's small configurations: a setup
// of one to three commands, then two workers of one or two commands each,
// without the watcher. Node 0 is the base context, node 1 the root scope,
// nodes 2 and on the setup's, in order; hooks likewise from 0.
//
// Each runs under scsWalkSleeps. Without a sleep the workers never run at
// once, under any schedule: each wakes from its first sleep at the same
// virtual instant, and the clock fires the second's timer only once
// nothing else can run, when the first has returned from its commands (it
// takes no virtual time, and a scope's Cancel and attach wait for nobody);
// the watcher likewise makes its rounds before either wakes. A search of
// two workers of one command each then has two schedules, the two orders.
// TestSerialScope's plans make them overlap with their sleeps.
var exhaustiveScopeConfigs = []exhaustiveConfig{
	{"a Cancel racing an attach below it", serialScopeCase{
		Setup:   []scsCmd{{Op: scsNew, Kind: int(scScope), Node: 1}},
		Workers: [][]scsCmd{{{Op: scsCancel, Node: 1}}, {{Op: scsNew, Kind: int(scScope), Node: 2}}}}},
	{"a Cancel racing an attach under it", serialScopeCase{
		Setup:   []scsCmd{{Op: scsNew, Kind: int(scScope), Node: 1}},
		Workers: [][]scsCmd{{{Op: scsCancel, Node: 2}}, {{Op: scsNew, Kind: int(scScope), Node: 2}}}}},
	{"two Cancels of a scope with an OnCancel hook", serialScopeCase{
		Setup:   []scsCmd{{Op: scsNew, Kind: int(scScope), Node: 1}, {Op: scsHook, Kind: 1, Node: 2}},
		Workers: [][]scsCmd{{{Op: scsCancel, Node: 2}}, {{Op: scsCancel, Node: 2, Arg: 1}}}}},
	{"a Cancel of the root racing the stop of an AfterFunc hook below it, then an attach", serialScopeCase{
		Setup:   []scsCmd{{Op: scsNew, Kind: int(scScope), Node: 1}, {Op: scsHook, Node: 2}},
		Workers: [][]scsCmd{{{Op: scsCancel, Node: 1}, {Op: scsNew, Kind: int(scScope), Node: 2}}, {{Op: scsStop}}}}},
	{"a Cancel of a shield racing an OnCancel below it", serialScopeCase{
		Setup:   []scsCmd{{Op: scsNew, Kind: int(scShielded), Node: 1}, {Op: scsNew, Kind: int(scScope), Node: 2}},
		Workers: [][]scsCmd{{{Op: scsCancel, Node: 2}}, {{Op: scsHook, Kind: 1, Node: 3}}}}},
	{"a deadline falling among a Cancel and an attach, under a far deadline", serialScopeCase{
		Setup: []scsCmd{{Op: scsNew, Kind: int(scDeadline), Node: 1, Arg: 2}, {Op: scsNew, Kind: int(scDeadline), Node: 2, Arg: 5},
			{Op: scsTimer, Node: 2, Arg: 2}},
		Workers: [][]scsCmd{{{Op: scsCancel, Node: 3, Delay: 1}}, {{Op: scsNew, Kind: int(scScope), Node: 4, Delay: 1}}}}},
	{"an AfterFunc on a cancelled scope racing an attach beside it", serialScopeCase{
		Setup:   []scsCmd{{Op: scsNew, Kind: int(scScope), Node: 1}, {Op: scsCancel, Node: 2}},
		Workers: [][]scsCmd{{{Op: scsHook, Node: 2}, {Op: scsNew, Kind: int(scScope), Node: 1}}, {{Op: scsCancel, Node: 1}}}}},
	{"Cancels of a scope and of a context derived from it", serialScopeCase{
		Setup:   []scsCmd{{Op: scsNew, Kind: int(scCancelCtx), Node: 1}, {Op: scsNew, Kind: int(scValue), Node: 2, Arg: 1}, {Op: scsHook, Node: 1}},
		Workers: [][]scsCmd{{{Op: scsCancel, Node: 1}}, {{Op: scsCancel, Node: 2}}}}},
}

// scsWalkSleeps is the plan of the scope configurations: a cancellation
// sleeps (in virtual time, under 1 ms) before it cancels each child,
// holding the parent's lock, and before it runs its hooks, so that the
// other worker runs in the middle of a Cancel: reads a node's Err whose
// parent is cancelled and it not yet, attaches under it, cancels it, stops
// its hook. The sleeps' lengths are a function of the goroutine and the
// step, as the serialized mode's plan draws them: the same on every rerun.
var scsWalkSleeps = map[string]chaos.Action{
	"scope/cancel-child": {Kind: chaos.Sleep, Prob: 1, MaxDelay: chaos.Duration(time.Millisecond)},
	"scope/hooks":        {Kind: chaos.Sleep, Prob: 1, MaxDelay: chaos.Duration(time.Millisecond)},
}

// exhaustiveConfigsFor returns the small configurations the search runs
// against a planted bug that the property whose cases gen draws must
// catch: its property's, and property 8's for property 10 too (both are
// about channels); nil for a property that has none.
func exhaustiveConfigsFor(gen any) []exhaustiveConfig {
	is := func(f any) bool { return reflect.ValueOf(gen).Pointer() == reflect.ValueOf(f).Pointer() }
	switch {
	case is(genSerialCase):
		return exhaustiveChanConfigs
	case is(genSerialLinCase):
		return append(exhaustiveLinConfigs[:len(exhaustiveLinConfigs):len(exhaustiveLinConfigs)], exhaustiveChanConfigs...)
	case is(genSerialGroupCase), is(genSerialResultCase):
		return exhaustiveGroupConfigs
	case is(genSerialContractCase):
		return exhaustiveContractConfigs
	case is(genSerialScopeCase):
		return exhaustiveScopeConfigs
	}
	return nil
}

// exhaustiveConfigs are every small configuration, as TestExhaustive runs
// them.
func exhaustiveConfigs() []exhaustiveConfig {
	var all []exhaustiveConfig
	for _, cs := range [][]exhaustiveConfig{exhaustiveChanConfigs, exhaustiveGroupConfigs, exhaustiveLinConfigs, exhaustiveContractConfigs, exhaustiveScopeConfigs} {
		all = append(all, cs...)
	}
	return all
}

func flavorIndex(f chantest.Flavor) int {
	for i, g := range chantest.Flavors {
		if g == f {
			return i
		}
	}
	panic(fmt.Sprintf("no flavor %v", f))
}
