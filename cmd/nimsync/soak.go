package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/report"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/nimsync/nimsync/soak"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
)

func cmdSoak(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("nimsync soak", flag.ContinueOnError)
	var (
		seed        seedFlag
		duration    = fs.Duration("duration", 0, "how long to soak (default 60s unless --runs is set)")
		runs        = fs.Int("runs", 0, "stop after the runs k < N of the whole sequence (0: no bound)")
		list        = fs.String("scenarios", "", "comma-separated scenarios to draw from (default: all)")
		scale       = fs.Float64("scale", 0, "scenario size multiplier, 1 for full size (default 1, or 0.1 with --chaos=swarm,\nwhose fault plans slow operations 10-100x: a full-size run can then take minutes)")
		out         = fs.String("out", "", "directory for report.json, report.md, report.html and artifacts/")
		metricsAddr = fs.String("metrics-addr", "", "serve Prometheus metrics on HOST:PORT during the soak")
		pushURL     = fs.String("push-gateway", "", "push the metrics to this Pushgateway URL when the soak ends")
		shard       = fs.String("shard", "", "run shard i/n of the sequence (default: from JOB_COMPLETION_INDEX and --shards, else 0/1)")
		shards      = fs.Int("shards", 0, "the shard count when the index comes from JOB_COMPLETION_INDEX (default: $NIMSYNC_SHARDS)")
		stall       = fs.Duration("stall", 30*time.Second, "fail when a run makes no progress for this long")
		grace       = fs.Duration("grace", 30*time.Second, "cut a run still going this long after --duration ends, as a failure (overrun)")
		sample      = fs.Duration("sample", time.Second, "sampling interval for throughput, latency and runtime metrics")
		strategy    = fs.String("sched", "", "run each run serialized, one goroutine at a time under the seeded scheduler with this\nstrategy (random, or pct:D with D >= 1), so a failure replays exactly; needs scripts/nimsync;\nruns are 10-100x slower: the default scale is then 0.01. swarm: each run draws its own\nstrategy from its seed among free (free-running under its fault plan), random, pct:1, pct:2\nand pct:3; swarm:LIST draws among LIST (comma-separated, e.g. swarm:free,random,pct:2)")
	)
	fs.Var(&seed, "seed", "the soak's seed (default: from the clock); date, or date:YYYY-MM-DD, for that UTC date as YYYYMMDD\n(a nightly's seed)")
	chaosOn := chaosFlag{on: true}
	fs.Var(&chaosOn, "chaos", "fault plans: swarm (a plan per run, from its seed; the flag alone means swarm) or off")
	lane := fs.String("lane", "", "name the series of nights this soak belongs to, recorded in the report: report compare\nrefuses to compare two lanes (e.g. bugs: a new seed a night; perf: a fixed seed, chaos off)")
	checkOnly := fs.Bool("check", false, "check the flags and exit (0 if they are good, 2 if not), running nothing and creating\nnothing (--out is not created; scripts/nightly checks its pass-through flags so)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nimsync soak [flags]\n\nRuns scenarios in a seeded order, each under a fault plan derived from its seed,\nuntil the duration ends; exits 1 if a violation, stall, runaway, overrun or leak\nwas found.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("soak takes no arguments (got %q)", pos[0])
	}
	c := soak.Config{Duration: *duration, Runs: *runs, Scale: *scale, Out: *out, Stall: *stall, Grace: *grace, Sample: *sample}
	if err := checkFlags(
		check{c.Duration >= 0, "duration", c.Duration, "want a duration of 0 or more (0: 60s unless --runs is set)"},
		check{c.Runs >= 0, "runs", c.Runs, "want a number of runs of 0 or more (0: no bound)"},
		check{finite(*scale) && *scale >= 0, "scale", *scale, "want a positive number such as 0.1 (0: the default)"},
		check{*stall > 0, "stall", *stall, "want a positive duration such as 30s"},
		check{*grace > 0, "grace", *grace, "want a positive duration such as 30s"},
		check{*sample > 0, "sample", *sample, "want a positive duration such as 1s"},
	); err != nil {
		return exitUsage, err
	}
	if c.Duration == 0 && c.Runs == 0 {
		c.Duration = time.Minute
	}
	if c.Scenarios, err = scenarios.Parse(*list); err != nil {
		return exitUsage, usageError{err.Error()}
	}
	c.Chaos = chaosOn.on
	if c.Sched, err = schedFlag(*strategy, c.Chaos, "drop --chaos=off"); err != nil {
		return exitUsage, err
	}
	if c.Scale == 0 {
		c.Scale = 1
		switch {
		case c.Sched != "":
			c.Scale = 0.01
		case c.Chaos:
			c.Scale = 0.1
		}
	}
	if c.Shard, c.Shards, err = shardOf(*shard, *shards); err != nil {
		return exitUsage, err
	}
	if c.Chaos && !chaos.Available() {
		return exitUsage, usagef("--chaos=swarm needs a failpoint build: run through scripts/nimsync (or pass --chaos=off)")
	}
	if *checkOnly {
		return exitOK, nil // before checkOut, which creates --out
	}
	if err := checkOut(c.Out); err != nil {
		return exitUsage, err
	}
	c.Seed = seed.orClock()
	c.Lane = *lane
	c.Flags = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { c.Flags[f.Name] = f.Value.String() })
	c.Flags["seed"] = strconv.FormatUint(c.Seed, 10) // the seed drawn from the clock, too
	if *pushURL != "" {
		if err := checkPushGateway(*pushURL); err != nil {
			return exitUsage, err
		}
	}
	reg, metrics := soak.NewRegistry()
	c.Metrics = metrics
	if *metricsAddr != "" {
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return exitUsage, usagef("--metrics-addr: %v", err)
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintf(stderr, "metrics on http://%s/metrics\n", ln.Addr())
	}
	c.Progress, c.Terminal = stderr, isTerminal(stderr)
	mode := chaosOn.String()
	switch {
	case soak.IsSwarm(c.Sched):
		mode += ", each run in a strategy its seed draws (--sched " + c.Sched + ")"
	case c.Sched != "":
		mode += ", serialized (" + c.Sched + ")"
	}
	fmt.Fprintf(stderr, "soak: seed %d, shard %d/%d, chaos %s, scenarios %v; rerun: scripts/nimsync soak --seed %d%s\n",
		c.Seed, c.Shard, c.Shards, mode, names(c.Scenarios), c.Seed, rerunFlags(c, *list))

	ctx, stop := signalContext()
	defer stop()
	rep, err := soak.Run(ctx, c)
	if *pushURL != "" {
		// Grouped by job and shard, which stay the same night after night:
		// each night replaces the last one's group (a seed in the grouping
		// made a new group every night, and none ever went away).
		p := push.New(*pushURL, "nimsync_soak").Gatherer(reg).
			Grouping("shard", fmt.Sprintf("%d_of_%d", c.Shard, c.Shards))
		if perr := p.Push(); perr != nil {
			fmt.Fprintf(stderr, "nimsync: pushing metrics to %s: %v\n", *pushURL, perr)
		}
	}
	return summarize(ctx, rep, err, c.Out, stdout)
}

// summarize prints the verdict of a soak (or run, or repro) and returns
// its exit code.
func summarize(ctx context.Context, rep *report.Report, err error, out string, stdout io.Writer) (int, error) {
	if rep == nil {
		return exitFound, err
	}
	ops := int64(0)
	for _, s := range rep.Scenarios {
		ops += s.Ops
	}
	verdict := "PASS"
	switch {
	case errors.Is(err, context.Canceled):
		verdict = "INTERRUPTED"
	case !rep.Passed || err != nil:
		verdict = "FAIL"
	}
	fmt.Fprintf(stdout, "%s: %d runs, %d operations in %.1fs, %d failures; leak check: %s\n",
		verdict, len(rep.Runs), ops, rep.Elapsed, len(rep.Failures), leakWord(rep.Leak))
	if rep.IsSwarm() {
		fmt.Fprintf(stdout, "swarm (%s), by strategy:\n", rep.Sched)
		for _, st := range report.StrategiesOf(rep) {
			per := 0.0
			if st.Runs > 0 {
				per = st.Seconds / float64(st.Runs)
			}
			fmt.Fprintf(stdout, "  %-7s %4d runs, %d failed, %.1fs (%.2fs a run)", st.Strategy, st.Runs, st.Failures, st.Seconds, per)
			for i, f := range st.Found {
				sep := ", "
				if i == 0 {
					sep = "; found: "
				}
				fmt.Fprintf(stdout, "%s%s %s x%d", sep, f.Scenario, f.Kind, f.Count)
			}
			fmt.Fprintln(stdout)
		}
	} else if rep.Sched != "" {
		var steps int64
		var secs float64
		for _, r := range rep.Runs {
			if r.Steps > 0 {
				steps, secs = steps+r.Steps, secs+r.Seconds
			}
		}
		if secs > 0 {
			fmt.Fprintf(stdout, "serialized (%s): %d scheduling steps in the runs that ended, %.0f steps/s\n", rep.Sched, steps, float64(steps)/secs)
		}
	}
	for _, f := range rep.Failures {
		strategy := ""
		if f.Strategy != "" {
			strategy = ", " + f.Strategy
		}
		fmt.Fprintf(stdout, "  %s %s (seed %d%s): %s\n", f.Kind, f.Scenario, f.Seed, strategy, firstLine(f.Error))
		if f.Repro != "" {
			fmt.Fprintf(stdout, "    repro: %s\n", f.Repro)
		}
	}
	if out != "" {
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(out, report.MarkdownFile))
	}
	switch {
	case len(rep.Failures) > 0: // found, whatever else happened
		return exitFound, err
	case errors.Is(err, soak.ErrReport):
		return exitError, err
	case errors.Is(err, context.Canceled):
		return interrupted(ctx), errors.New("interrupted; the report covers the runs done")
	case err != nil || !rep.Passed:
		return exitFound, err
	}
	return exitOK, nil
}

// checkPushGateway checks --push-gateway before the soak starts: a URL of
// scheme http or https with a host, whose Pushgateway answers its health
// check (GET /-/healthy) within 5 s. A soak that would only find at its end
// that its metrics cannot go anywhere is refused at once.
func checkPushGateway(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("bad --push-gateway %q: want a URL such as http://pushgateway:9091", raw)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(strings.TrimSuffix(u.String(), "/") + "/-/healthy")
	if err != nil {
		return usagef("--push-gateway %s: the Pushgateway does not answer: %v", raw, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return usagef("--push-gateway %s: its health check (/-/healthy) says %s", raw, resp.Status)
	}
	return nil
}

// signalContext is cancelled by SIGINT or SIGTERM (what Kubernetes and CI
// runners send), so the soak stops between runs and writes its report; its
// cause is the signal (interrupted). After the first signal the default
// handling is restored: a second one kills.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			signal.Stop(sigs)
			cancel(signalError{sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel(context.Canceled)
	}
}

// signalError is the cause of a signalContext a signal ended.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "interrupted by " + e.sig.String() }

// interrupted is the exit code of a command a signal stopped: 128 plus the
// signal's number, as a shell reports a process the signal killed (130 for
// SIGINT, 143 for SIGTERM), and 130 without a signal (a test's cancel).
func interrupted(ctx context.Context) int {
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		if n, ok := se.sig.(syscall.Signal); ok {
			return 128 + int(n)
		}
	}
	return exitInterrupted
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func leakWord(l report.Leak) string {
	switch {
	case !l.OK:
		return "LEAK (" + l.Note + ")"
	case l.Note != "":
		return l.Note
	}
	return "flat"
}

// shardOf resolves --shard, or JOB_COMPLETION_INDEX with --shards or
// NIMSYNC_SHARDS (a Kubernetes Indexed Job sets the index).
func shardOf(flagV string, shards int) (int, int, error) {
	if flagV != "" {
		return parseShard(flagV)
	}
	idx := os.Getenv("JOB_COMPLETION_INDEX")
	if idx == "" {
		if shards != 0 {
			return 0, 0, usagef("--shards %d needs JOB_COMPLETION_INDEX for the index; or give --shard i/n", shards)
		}
		return 0, 1, nil
	}
	if shards == 0 {
		if v := os.Getenv("NIMSYNC_SHARDS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, 0, usagef("bad NIMSYNC_SHARDS %q", v)
			}
			shards = n
		}
	}
	if shards < 1 {
		return 0, 0, usagef("JOB_COMPLETION_INDEX is set: give the shard count (at least 1) with --shards or NIMSYNC_SHARDS")
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= shards {
		return 0, 0, usagef("bad JOB_COMPLETION_INDEX %q for %d shards: want 0 <= index < %d", idx, shards, shards)
	}
	return i, shards, nil
}

// checkOut makes sure the report directory can be created and written
// before the soak starts, so a long soak never ends unable to report.
func checkOut(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("--out: %v", err)
	}
	f, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return usagef("--out: %v", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func names(ss []scenarios.Scenario) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func rerunFlags(c soak.Config, list string) string {
	s := ""
	if list != "" {
		s += " --scenarios " + list
	}
	if c.Duration > 0 {
		s += " --duration " + c.Duration.String()
	}
	if c.Runs > 0 {
		s += " --runs " + strconv.Itoa(c.Runs)
	}
	if c.Shards > 1 {
		s += fmt.Sprintf(" --shard %d/%d", c.Shard, c.Shards)
	}
	if !c.Chaos {
		s += " --chaos=off"
	}
	if c.Sched != "" {
		s += " --sched " + c.Sched
	}
	s += " --scale " + strconv.FormatFloat(c.Scale, 'g', -1, 64)
	return s
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
