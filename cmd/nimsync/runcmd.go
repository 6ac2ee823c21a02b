package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/nimsync/nimsync/soak"
)

func cmdRun(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync run", flag.ContinueOnError)
	var seed seedFlag
	fs.Var(&seed, "seed", "the run's seed: the scenario's shape and fault plan (default: from the clock)")
	scale := fs.Float64("scale", 1, "scenario size multiplier (1: full size)")
	withChaos := fs.Bool("chaos", false, "run under the swarm fault plan of the seed (needs scripts/nimsync)")
	stall := fs.Duration("stall", 30*time.Second, "fail when the run makes no progress for this long")
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
	if !(*scale > 0) || !finite(*scale) || *stall <= 0 {
		return exitUsage, usagef("--scale and --stall must be positive")
	}
	if *withChaos && !chaos.Available() {
		return exitUsage, usagef("--chaos needs a failpoint build: run through scripts/nimsync")
	}
	if err := checkOut(*out); err != nil {
		return exitUsage, err
	}
	s := seed.orClock()
	fmt.Fprintf(stderr, "run %s: seed %d; rerun: scripts/nimsync run %s --seed %d --scale %g%s\n",
		sc.Name, s, sc.Name, s, *scale, map[bool]string{true: " --chaos"}[*withChaos])
	ctx, stop := signalContext()
	defer stop()
	rep, err := soak.Run(ctx, soak.Config{
		Runs: 1, Seed: s, Scale: *scale, Chaos: *withChaos, Out: *out, Stall: *stall,
		Scenarios: []scenarios.Scenario{sc}, Replay: &soak.Step{Scenario: sc.Name, Seed: s},
		Progress: stderr,
	})
	return summarize(rep, err, *out, stdout)
}

func cmdRepro(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync repro", flag.ContinueOnError)
	runs := fs.Int("runs", 10, "how many times to replay")
	var seed seedFlag
	fs.Var(&seed, "seed", "replay this seed (with --scenario) instead of an artifact")
	scenario := fs.String("scenario", "", "the scenario to replay with --seed")
	scale := fs.Float64("scale", 1, "scenario size with --seed")
	withChaos := fs.Bool("chaos", false, "with --seed: under the seed's swarm fault plan")
	stall := fs.Duration("stall", 30*time.Second, "count a replay as a stall after this long without progress")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nimsync repro ARTIFACT [--runs N]\n       nimsync repro --scenario X --seed N [--scale S] [--chaos] [--runs N]\n\nReplays a failure and reports how often it reproduces (Go's scheduler is not\nseeded: a replay reproduces the fault plan and the scenario's shape, not the\ninterleaving). Exits 1 if it reproduced at least once, 0 if never.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if *runs < 1 || *stall <= 0 || !(*scale > 0) || !finite(*scale) {
		return exitUsage, usagef("--runs, --stall and --scale must be positive")
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
		if *withChaos {
			p := chaos.NewPlan(seed.v)
			a.Plan = &p
		}
	default:
		return exitUsage, usagef("repro takes an artifact directory, or --scenario and --seed")
	}
	if a.Plan != nil && !chaos.Available() {
		return exitUsage, usagef("the failure ran under a fault plan: replay it through scripts/nimsync, which builds with failpoints")
	}
	fmt.Fprintf(stderr, "repro %s seed %d (scale %g, plan: %v), %d runs\n", a.Scenario, a.Seed, a.Scale, a.Plan != nil, *runs)
	ctx, stop := signalContext()
	defer stop()
	rep, err := soak.Repro(ctx, a, *runs, *stall, soak.Config{Progress: stderr, ReproCommand: func(string) string { return "" }})
	if rep == nil {
		return exitError, err
	}
	failed := 0
	for _, r := range rep.Runs {
		if r.Error != "" {
			failed++
		}
	}
	fmt.Fprintf(stdout, "the failure reproduced in %d of %d replays\n", failed, len(rep.Runs))
	for _, f := range rep.Failures {
		fmt.Fprintf(stdout, "  %s: %s\n", f.Kind, firstLine(f.Error))
	}
	switch {
	case failed > 0:
		return exitFound, err
	case errors.Is(err, context.Canceled):
		return exitInterrupted, errors.New("interrupted before any replay reproduced the failure")
	case err != nil:
		return exitError, err
	}
	return exitOK, nil
}
