package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/nimsync/nimsync/sched"
	"github.com/nimsync/nimsync/soak"
)

func cmdRun(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync run", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "the run's seed: the scenario's shape and fault plan (default: from the clock)")
	scale := fs.Float64("scale", 1, "scenario size multiplier (1: full size)")
	var withChaos chaosFlag
	fs.Var(&withChaos, "chaos", "fault plan: swarm (the seed's swarm plan; the flag alone means swarm; needs scripts/nimsync) or off")
	stall := fs.Duration("stall", 30*time.Second, "fail when the run makes no progress for this long")
	strategy := fs.String("sched", "", "run serialized, one goroutine at a time under the seeded scheduler with this strategy\n(random, or pct:D with D >= 1), so a failure replays exactly; needs scripts/nimsync; 10-100x slower:\nuse a small --scale (0.01). swarm or swarm:LIST: in the strategy the seed draws, as in a soak\n(free needs --chaos)")
	out := fs.String("out", "", "directory for the report and any artifact (default: none; artifacts go to the temporary directory)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nimsync run SCENARIO [flags]\n\nRuns one scenario once and checks its invariants.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 1 {
		return exitUsage, usagef("run takes one scenario (known: %v)", scenarios.Names())
	}
	sc, ok := scenarios.Lookup(pos[0])
	if !ok {
		return exitUsage, usagef("unknown scenario %q (known: %v)", pos[0], scenarios.Names())
	}
	if err := checkFlags(
		check{*scale > 0 && finite(*scale), "scale", *scale, "want a positive number such as 0.1"},
		check{*stall > 0, "stall", *stall, "want a positive duration such as 30s"},
	); err != nil {
		return exitUsage, err
	}
	if withChaos.on && !chaos.Available() {
		return exitUsage, usagef("--chaos needs a failpoint build: run through scripts/nimsync")
	}
	strat, err := schedFlag(*strategy, withChaos.on, "add --chaos")
	if err != nil {
		return exitUsage, err
	}
	if err := checkOut(*out); err != nil {
		return exitUsage, err
	}
	s := seed.orClock()
	rerun := fmt.Sprintf("scripts/nimsync run %s --seed %d --scale %g", sc.Name, s, *scale)
	if withChaos.on {
		rerun += " --chaos"
	}
	if strat != "" {
		rerun += " --sched " + strat
	}
	drawn := ""
	if soak.IsSwarm(strat) {
		members, _, _ := soak.ParseSwarm(strat)
		drawn = " (the swarm draws " + soak.SwarmDraw(s, members) + ")"
	}
	fmt.Fprintf(stderr, "run %s: seed %d%s; rerun: %s\n", sc.Name, s, drawn, rerun)
	ctx, stop := signalContext()
	defer stop()
	rep, err := soak.Run(ctx, soak.Config{
		Runs: 1, Seed: s, Scale: *scale, Chaos: withChaos.on, Sched: strat, Out: *out, Stall: *stall,
		Scenarios: []scenarios.Scenario{sc}, Replay: &soak.Step{Scenario: sc.Name, Seed: s},
		Progress: stderr,
	})
	return summarize(ctx, rep, err, *out, stdout)
}

func cmdRepro(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync repro", flag.ContinueOnError)
	runs := fs.Int("runs", 10, "how many times to replay")
	var seed seedFlag
	fs.Var(&seed, "seed", "replay this seed (with --scenario) instead of an artifact")
	scenario := fs.String("scenario", "", "the scenario to replay with --seed")
	scale := fs.Float64("scale", 1, "scenario size with --seed")
	var withChaos chaosFlag
	fs.Var(&withChaos, "chaos", "with --seed: swarm (under the seed's swarm fault plan; the flag alone means swarm) or off")
	stall := fs.Duration("stall", 30*time.Second, "count a replay as a stall after this long without progress")
	strategy := fs.String("sched", "", "with --seed: serialized, under the seeded scheduler with this strategy (random, pct:D),\nor in the strategy the seed draws in the swarm (swarm, swarm:LIST; free needs --chaos)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nimsync repro ARTIFACT [--runs N]\n       nimsync repro --scenario X --seed N [--scale S] [--chaos] [--sched STRATEGY] [--runs N]\n\nReplays a failure and reports how often it reproduces. A free-running failure\nreplays its fault plan and the scenario's shape, not the interleaving (Go's\nscheduler is not seeded). A serialized one (soak or run with --sched) replays its\nschedule step by step: each replay must take the recorded steps to the recorded\nfailure, and one that does not stops at the first step that differs and says so.\nExits 1 if it reproduced at least once, 0 if never (and 3 if a serialized\nreplay diverged).\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if err := checkFlags(
		check{*runs >= 1, "runs", *runs, "want a number of replays of 1 or more"},
		check{*stall > 0, "stall", *stall, "want a positive duration such as 30s"},
		check{*scale > 0 && finite(*scale), "scale", *scale, "want a positive number such as 0.1"},
	); err != nil {
		return exitUsage, err
	}
	var a *soak.Artifact
	switch {
	case len(pos) == 1 && !seed.set && *scenario == "":
		if a, err = soak.ReadArtifact(pos[0]); err != nil {
			return exitUsage, usageError{err.Error()}
		}
	case len(pos) == 0 && seed.set && *scenario != "":
		if _, ok := scenarios.Lookup(*scenario); !ok {
			return exitUsage, usagef("unknown scenario %q (known: %v)", *scenario, scenarios.Names())
		}
		a = &soak.Artifact{Scenario: *scenario, Seed: seed.v, Scale: *scale}
		if withChaos.on {
			p := chaos.NewPlan(seed.v)
			a.Plan = &p
		}
		if a.Sched, err = schedFlag(*strategy, withChaos.on, "add --chaos"); err != nil {
			return exitUsage, err
		}
		if soak.IsSwarm(a.Sched) {
			// The run of the seed in the swarm: in the strategy it draws.
			members, _, _ := soak.ParseSwarm(a.Sched)
			a.Swarm, a.Strategy = a.Sched, soak.SwarmDraw(seed.v, members)
			a.Sched = a.Strategy
			if a.Sched == soak.Free {
				a.Sched = ""
			}
		}
	default:
		return exitUsage, usagef("repro takes an artifact directory, or --scenario and --seed")
	}
	if a.Plan != nil && !chaos.Available() {
		return exitUsage, usagef("the failure ran under a fault plan: replay it through scripts/nimsync, which builds with failpoints")
	}
	if a.Sched != "" && !chaos.Available() {
		return exitUsage, usagef("the failure ran serialized: replay it through scripts/nimsync, which builds with failpoints")
	}
	mode := ""
	if a.Swarm != "" {
		mode = fmt.Sprintf(", drawn by the swarm %s: %s", a.Swarm, a.Strategy)
	}
	switch {
	case a.Schedule != nil:
		mode += fmt.Sprintf(", serialized: its schedule of %d steps (%s)", len(a.Schedule.Decisions), a.Sched)
	case a.Sched != "":
		mode += ", serialized (" + a.Sched + ")"
	}
	fmt.Fprintf(stderr, "repro %s seed %d (scale %g, plan: %v%s), %d runs\n", a.Scenario, a.Seed, a.Scale, a.Plan != nil, mode, *runs)
	ctx, stop := signalContext()
	defer stop()
	rep, err := soak.Repro(ctx, a, *runs, *stall, soak.Config{Progress: stderr, ReproCommand: func(string) string { return "" }})
	if rep == nil {
		return exitError, err
	}
	failed, diverged := 0, 0
	for _, r := range rep.Runs {
		if r.Error != "" {
			failed++
		}
	}
	if a.Schedule != nil {
		// A serialized replay reproduces when it fails exactly as recorded;
		// one that took other steps diverged, and any other failure is not
		// the recorded one.
		failed = 0
		for _, f := range rep.Failures {
			switch {
			case f.Kind == "divergence":
				diverged++
			case f.Kind == a.Kind && f.Error == a.Error:
				failed++
			}
		}
	}
	fmt.Fprintf(stdout, "the failure reproduced in %d of %d replays\n", failed, len(rep.Runs))
	for _, f := range rep.Failures {
		fmt.Fprintf(stdout, "  %s: %s\n", f.Kind, firstLine(f.Error))
	}
	switch {
	case diverged > 0:
		return exitError, fmt.Errorf("%d of %d replays diverged from the recorded schedule (the code, the build or GOMAXPROCS differ from the recorded run's)", diverged, len(rep.Runs))
	case failed > 0:
		return exitFound, err
	case errors.Is(err, context.Canceled):
		return interrupted(ctx), errors.New("interrupted before any replay reproduced the failure")
	case err != nil:
		return exitError, err
	}
	return exitOK, nil
}

// schedFlag checks a --sched value: "" (Go's scheduler), random, pct:D, or
// a swarm over strategies (swarm, swarm:LIST; soak.ParseSwarm), which it
// returns in its canonical spelling. A swarm that draws free-running runs
// needs fault plans (chaosOn; noChaos says how they are switched on); the
// serialized mode and the swarm need a failpoint build.
func schedFlag(v string, chaosOn bool, noChaos string) (string, error) {
	if v == "" {
		return "", nil
	}
	if soak.IsSwarm(v) {
		members, canonical, err := soak.ParseSwarm(v)
		if err != nil {
			return "", usagef("bad --sched: %v", err)
		}
		if slices.Contains(members, soak.Free) && !chaosOn {
			others := slices.DeleteFunc(slices.Clone(members), func(m string) bool { return m == soak.Free })
			alt := "--sched swarm:random,pct:1,pct:2,pct:3"
			if len(others) > 0 {
				alt = "--sched swarm:" + strings.Join(others, ",")
			}
			return "", usagef("--sched %s draws free-running runs, which run under their fault plan: %s, or leave free out (%s)", v, noChaos, alt)
		}
		if !chaos.Available() {
			return "", usagef("--sched %s needs a failpoint build: run through scripts/nimsync", v)
		}
		return canonical, nil
	}
	st, err := sched.ParseStrategy(v)
	if err != nil {
		return "", usagef("bad --sched: %v", err)
	}
	if st.Exhaustive() {
		return "", usagef("bad --sched %q: a run takes random, pct:D or swarm (dfs:K is a step of the bounded exhaustive search, not a strategy for one run)", v)
	}
	if !chaos.Available() {
		return "", usagef("--sched needs a failpoint build: run through scripts/nimsync")
	}
	return st.String(), nil
}
