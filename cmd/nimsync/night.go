package main

// nimsync night: the nightly soak as a Kubernetes Indexed Job runs it
// (deploy/k8s). Every pod runs `night run`: its shard of the night's soak,
// then a marker on the results volume; the pod of index 0 then waits for
// every shard's marker and finishes the night (nightfinish.go).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

const nightUsage = `usage: nimsync night run --results DIR [flags] [-- SOAK-FLAGS...]
       nimsync night finish --results DIR [--night NAME] [--shards N] [--keep-days N]

run is one pod of the night's Indexed Job: shard i of n (JOB_COMPLETION_INDEX
and --shards, or --shard i/n) soaks with the night's seed (its UTC date,
YYYYMMDD) into DIR/NIGHT/shard-i and leaves DIR/NIGHT/shard-i.done; the pod
of shard 0 then waits for every shard's marker (at most --wait) and runs
finish. NIGHT is the night's date, YYYY-MM-DD (-2, -3, ... for a later Job
of the same date), shared by the Job's pods through the file NIGHT/JOB.
finish merges the night's shards, compares the night with the latest earlier
comparable one and deletes old nights.`

func cmdNight(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return exitUsage, usagef("night needs a subcommand: run or finish")
	}
	switch args[0] {
	case "run":
		return cmdNightRun(args[1:], stdout, stderr)
	case "finish":
		return cmdNightFinish(args[1:], stdout, stderr)
	case "-h", "-help", "--help":
		fmt.Fprintln(stdout, nightUsage)
		return exitOK, nil
	}
	return exitUsage, usagef("unknown night subcommand %q: want run or finish", args[0])
}

// nightRun is a pod's part of a night.
type nightRun struct {
	finishConfig
	Shard int
	Job   string        // the Job's identity (claimNight)
	Wait  time.Duration // how long shard 0 waits for the others
	Poll  time.Duration // how often it looks
	Soak  []string      // more flags for the soak
	Date  time.Time     // the night's date
}

func cmdNightRun(args []string, stdout, stderr io.Writer) (int, error) {
	var soakArgs []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, soakArgs = args[:i], args[i+1:]
	}
	fs := flag.NewFlagSet("nimsync night run", flag.ContinueOnError)
	var r nightRun
	fs.StringVar(&r.Results, "results", "", "the directory of nights (required; a volume every pod of the Job mounts)")
	shards := fs.Int("shards", 0, "the shard count; the index comes from JOB_COMPLETION_INDEX (default: $NIMSYNC_SHARDS)")
	shard := fs.String("shard", "", "run shard i/n (default: from JOB_COMPLETION_INDEX and --shards)")
	fs.StringVar(&r.Job, "job", "", "the Job's identity, the same in all its pods (default: $NIMSYNC_JOB_UID, else $NIMSYNC_JOB_NAME)")
	jobName := fs.String("job-name", "", "the Job's name, NAME-MINUTES when a CronJob made it: the night's date is then the\nscheduled one (default: $NIMSYNC_JOB_NAME; otherwise the date is today's, UTC)")
	fs.DurationVar(&r.Wait, "wait", 30*time.Minute, "how long shard 0, after its soak, waits for the other shards' markers")
	fs.DurationVar(&r.Poll, "poll", 10*time.Second, "how often shard 0 looks for the markers")
	fs.IntVar(&r.KeepDays, "keep-days", 0, "delete nights more than this many days older than this night (0: keep all)")
	fs.Float64Var(&r.Alpha, "alpha", 0.05, "significance level of the comparison's Mann-Whitney U test")
	fs.Usage = func() {
		fmt.Fprintln(stderr, nightUsage+"\n\nFlags of run (the soak's own go after --; --seed, --shard, --shards and --out are run's):")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("night run takes no arguments (got %q); the soak's flags go after --", pos[0])
	}
	for _, a := range soakArgs {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && slices.Contains([]string{"seed", "shard", "shards", "out"}, name) {
			return exitUsage, usagef("soak flag --%s after --: night run sets it", name)
		}
	}
	if r.Job == "" {
		r.Job = firstNonEmpty(os.Getenv("NIMSYNC_JOB_UID"), os.Getenv("NIMSYNC_JOB_NAME"))
	}
	if *jobName == "" {
		*jobName = os.Getenv("NIMSYNC_JOB_NAME")
	}
	if err := checkFlags(
		check{r.Results != "", "results", `""`, "want the directory of nights"},
		check{r.Job != "" && !strings.ContainsAny(r.Job, "\n"), "job", fmt.Sprintf("%q", r.Job), "want the Job's identity (or set NIMSYNC_JOB_UID)"},
		check{r.Wait >= 0, "wait", r.Wait, "want a duration of 0 or more"},
		check{r.Poll > 0, "poll", r.Poll, "want a positive duration such as 10s"},
		check{r.KeepDays >= 0, "keep-days", r.KeepDays, "want a number of days of 0 or more (0: keep all)"},
		check{r.Alpha > 0 && r.Alpha < 1, "alpha", r.Alpha, "want a significance level in (0, 1) such as 0.05"},
	); err != nil {
		return exitUsage, err
	}
	if r.Shard, r.Shards, err = shardOf(*shard, *shards); err != nil {
		return exitUsage, err
	}
	r.Soak, r.Date = soakArgs, nightDate(*jobName, time.Now())
	// Check the soak's flags before the night has a directory.
	if code, err := cmdSoak(append(r.soakArgs(os.TempDir()), "--check"), stdout, stderr); code != exitOK {
		return code, err
	}
	return r.run(stdout, stderr)
}

// soakArgs are the flags of this pod's soak, into the night dir.
func (r *nightRun) soakArgs(night string) []string {
	return append(slices.Clone(r.Soak),
		"--seed", "date:"+r.Date.Format(time.DateOnly),
		"--shard", fmt.Sprintf("%d/%d", r.Shard, r.Shards),
		"--out", shardDir(night, r.Shard))
}

// run runs the pod's shard (unless its marker says it ran: a retried pod
// of shard 0 goes straight to finishing), then, in shard 0, the finish.
func (r *nightRun) run(stdout, stderr io.Writer) (int, error) {
	night, err := claimNight(r.Results, r.Date, r.Job)
	if err != nil {
		return exitError, err
	}
	r.Night = night
	code, done, err := readDone(night, r.Shard)
	if err != nil {
		return exitError, err
	}
	if done {
		fmt.Fprintf(stderr, "night: shard %d/%d of %s already ran (exit %d)\n", r.Shard, r.Shards, night, code)
	} else {
		fmt.Fprintf(stderr, "night: shard %d/%d into %s\n", r.Shard, r.Shards, night)
		code, err = cmdSoak(r.soakArgs(night), stdout, stderr)
		switch code {
		case exitOK, exitFound, exitError: // the soak ended: its result stands
			if werr := writeDone(night, r.Shard, code); werr != nil {
				return exitError, werr
			}
		default: // bad usage, or interrupted: no marker, a retry runs it again
			return code, err
		}
	}
	if r.Shard != 0 {
		return code, err
	}
	if err != nil {
		fmt.Fprintf(stderr, "nimsync: shard 0: %v\n", err)
	}
	ctx, stop := signalContext()
	defer stop()
	missing, err := r.waitShards(ctx)
	if err != nil {
		return interrupted(ctx), err
	}
	if len(missing) > 0 {
		fmt.Fprintf(stdout, "night: after %v, no marker from shards %v: finishing without them\n", r.Wait, missing)
	}
	fcode, ferr := finishNight(r.finishConfig, stdout)
	return worse(code, fcode), ferr
}

// waitShards waits until every shard has left its marker or r.Wait has
// passed, and returns the shards that have not; it returns ctx's error
// when ctx ends first.
func (r *nightRun) waitShards(ctx context.Context) ([]int, error) {
	deadline := time.NewTimer(r.Wait)
	defer deadline.Stop()
	tick := time.NewTicker(r.Poll)
	defer tick.Stop()
	for {
		var missing []int
		for i := range r.Shards {
			_, ok, err := readDone(r.Night, i)
			if err != nil {
				return nil, err
			}
			if !ok {
				missing = append(missing, i)
			}
		}
		if len(missing) == 0 {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-deadline.C:
			return missing, nil
		case <-tick.C:
		}
	}
}

// worse is the graver of two exit codes: found, then error, then ok.
func worse(a, b int) int {
	rank := func(c int) int {
		switch c {
		case exitOK:
			return 0
		case exitFound:
			return 2
		}
		return 1
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
