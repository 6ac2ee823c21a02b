package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nimsync/nimsync/internal/mutation"
)

// lane holds what every mutant's run shares: the snapshot, the work
// directory with its build cache, and the failpoint rewriter.
//
// The chaos build is the one scripts/chaos-test and scripts/nimsync make:
// go test / go build with -tags chaos and -toolexec failpoint-toolexec,
// under a build cache of the lane's own (work/gocache: shared with plain
// builds it would mix marked and unmarked objects). A mutant is one file
// swapped through go's -overlay, which failpoint-toolexec honours: go hands
// the compiler the overlay's path and the rewriter rewrites that file. The
// rewriter keeps its output under TMPDIR/failpoint-toolexec/<package>, so
// each job has a TMPDIR of its own: two jobs compiling core at once would
// otherwise overwrite each other's rewritten files.
type lane struct {
	cfg       config
	src       string // the snapshot: the module measured
	work      string
	toolexec  string
	goBin     string
	goVersion string
	stderr    io.Writer
}

// setup builds failpoint-toolexec (pinned in go.mod as a tool) and
// prepares the work directory.
func (l *lane) setup(ctx context.Context) error {
	var err error
	if l.goBin, err = exec.LookPath("go"); err != nil {
		return err
	}
	for _, d := range []string{"jobs", "logs"} { // this run's alone
		if err := os.RemoveAll(filepath.Join(l.work, d)); err != nil {
			return err
		}
	}
	for _, d := range []string{"gocache", "bin", "logs"} {
		if err := os.MkdirAll(filepath.Join(l.work, d), 0o755); err != nil {
			return err
		}
	}
	l.toolexec = filepath.Join(l.work, "bin", "failpoint-toolexec")
	var log bytes.Buffer
	env := l.env(0, nil)
	if err := l.command(ctx, l.src, env, &log, l.goBin, "build", "-o", l.toolexec, "github.com/pingcap/failpoint/failpoint-toolexec"); err != nil {
		return fmt.Errorf("building failpoint-toolexec: %v\n%s", err, log.String())
	}
	log.Reset()
	if err := l.command(ctx, l.src, env, &log, l.goBin, "env", "GOVERSION"); err != nil {
		return fmt.Errorf("go env GOVERSION: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n") // the first is command's header
	l.goVersion = lines[len(lines)-1]
	return nil
}

// jobDir is job j's directory: its TMPDIR, binaries, mutant file and
// artifacts.
func (l *lane) jobDir(j int) string { return filepath.Join(l.work, "jobs", fmt.Sprint(j)) }

// env is the environment of job j's commands: the lane's build cache, the
// job's TMPDIR, and the given NIMSYNC_ settings in place of any inherited.
func (l *lane) env(j int, nimsync []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GOCACHE" || k == "TMPDIR" || k == "GOFLAGS" || strings.HasPrefix(k, "NIMSYNC_") {
			continue
		}
		env = append(env, kv)
	}
	tmp := filepath.Join(l.jobDir(j), "tmp")
	_ = os.MkdirAll(tmp, 0o755)
	env = append(env, "GOCACHE="+filepath.Join(l.work, "gocache"), "TMPDIR="+tmp)
	return append(env, nimsync...)
}

// try builds the mutant m (the unmutated snapshot if m is nil) in job j,
// runs the property suite and then the soak against it within the lane's
// budget, and classifies it. name names its log.
func (l *lane) try(parent context.Context, j int, m *mutation.Mutant, name string) mutation.Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(parent, l.cfg.budget)
	defer cancel()
	r := mutation.Result{Log: filepath.Join(l.work, "logs", name+".log")}
	if m != nil {
		r.Mutant = *m
	}
	logf, err := os.Create(r.Log)
	if err != nil {
		r.Status, r.Stage, r.Reason = mutation.NotCompiled, "setup", err.Error()
		return r
	}
	defer logf.Close()
	if m != nil {
		fmt.Fprintf(logf, "== mutant %s:%d:%d %s %s in %s\n== key %s\n", m.File, m.Line, m.Col, m.Op, m.Change(), m.Func, m.Key)
	}
	r.Status, r.Stage, r.Reason = l.stages(ctx, j, m, logf)
	if ctx.Err() != nil && parent.Err() == nil {
		r.Status = mutation.TimedOut
		r.Reason = fmt.Sprintf("still running at %s after the budget of %v", r.Stage, l.cfg.budget)
	}
	r.Seconds = time.Since(start).Seconds()
	fmt.Fprintf(logf, "== %s at %s: %s (%.1fs)\n", r.Status, r.Stage, r.Reason, r.Seconds)
	return r
}

// stages runs the stages of one mutant: build and run the property suite,
// then build and run the soak. The first that fails decides.
func (l *lane) stages(ctx context.Context, j int, m *mutation.Mutant, log io.Writer) (mutation.Status, string, string) {
	dir := l.jobDir(j)
	for _, d := range []string{"bin", "mutant", "artifacts", "soak"} {
		_ = os.RemoveAll(filepath.Join(dir, d))
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return mutation.NotCompiled, "setup", err.Error()
		}
	}
	build := []string{"-tags", "chaos", "-toolexec=" + l.toolexec}
	if m != nil {
		overlay, err := l.writeMutant(dir, *m)
		if err != nil {
			return mutation.NotCompiled, "setup", err.Error()
		}
		build = append(build, "-overlay="+overlay)
	}
	env := l.env(j, nil)

	// The property suite: a fixed seed, a short budget per property.
	var out bytes.Buffer
	props := filepath.Join(dir, "bin", "properties.test")
	if err := l.command(ctx, l.src, env, io.MultiWriter(log, &out), l.goBin, append(append([]string{"test"}, build...), "-c", "-o", props, "./properties")...); err != nil {
		return mutation.NotCompiled, "build", compileError(out.String())
	}
	runEnv := l.env(j, []string{
		fmt.Sprintf("NIMSYNC_SEED=%d", l.cfg.chaosSeed),
		"NIMSYNC_BUDGET=" + l.cfg.propertyBudget.String(),
		// A test past this bound fails with its stacks (the harness's own
		// watchdog), well inside the mutant's budget.
		"NIMSYNC_TEST_BOUND=" + (l.cfg.propertyBudget + time.Minute).String(),
		"NIMSYNC_ARTIFACTS=" + filepath.Join(dir, "artifacts"),
	})
	out.Reset()
	err := l.command(ctx, filepath.Join(l.src, "properties"), runEnv, io.MultiWriter(log, &out), props,
		"-test.count=1", "-test.failfast", "-test.skip", l.cfg.skip, "-test.timeout", l.cfg.budget.String())
	if err != nil {
		return mutation.Killed, "properties", propertyFailure(out.String(), err)
	}
	if l.cfg.soakDuration == 0 {
		return mutation.Survived, "properties", "the property suite passed"
	}

	// The soak: the scenarios under seeded fault plans, built from the
	// mutant as scripts/nimsync builds the command.
	bin := filepath.Join(dir, "bin", "nimsync")
	out.Reset()
	if err := l.command(ctx, l.src, env, io.MultiWriter(log, &out), l.goBin, append(append([]string{"build"}, build...), "-o", bin, "./cmd/nimsync")...); err != nil {
		return mutation.NotCompiled, "build", compileError(out.String())
	}
	out.Reset()
	err = l.command(ctx, dir, env, io.MultiWriter(log, &out), bin, "soak",
		"--duration", l.cfg.soakDuration.String(), "--scale", fmt.Sprint(l.cfg.soakScale),
		"--seed", fmt.Sprint(l.cfg.chaosSeed), "--stall", "15s", "--grace", "20s", "--out", filepath.Join(dir, "soak"))
	if err != nil {
		return mutation.Killed, "soak", soakFailure(out.String(), err)
	}
	return mutation.Survived, "soak", "the property suite and the soak passed"
}

// writeMutant writes m's mutated file into dir/mutant and an overlay
// that puts it in place of the snapshot's file; it returns the overlay's
// path.
func (l *lane) writeMutant(dir string, m mutation.Mutant) (string, error) {
	orig := filepath.Join(l.src, filepath.FromSlash(m.File))
	src, err := os.ReadFile(orig)
	if err != nil {
		return "", err
	}
	mutated, err := m.Apply(src)
	if err != nil {
		return "", err
	}
	// The same base name: failpoint-toolexec names its rewritten file after it.
	file := filepath.Join(dir, "mutant", filepath.Base(orig))
	if err := os.WriteFile(file, mutated, 0o644); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": {orig: file}})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "mutant", "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o644)
}

// command runs name with args in dir, its output to log, and kills its
// whole process group when ctx ends.
func (l *lane) command(ctx context.Context, dir string, env []string, log io.Writer, name string, args ...string) error {
	if l.cfg.verbose {
		fmt.Fprintf(l.stderr, "mutate: (cd %s && %s %s)\n", dir, name, strings.Join(args, " "))
	}
	fmt.Fprintf(log, "== (cd %s && %s %s)\n", dir, name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, log, log
	ownGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		return errors.Join(err, ctx.Err())
	}
	return err
}

var (
	goError   = regexp.MustCompile(`(?m)^\S+\.go:\d+(:\d+)?: (.*)$`)
	topFail   = regexp.MustCompile(`(?m)^--- FAIL: (\S+)`)
	failLine  = regexp.MustCompile(`(?m)^\s*(.*(Falsified|Labels of failing property|Error:|overran|leak|goleak|panic:|fatal error:|deadlock|timed out).*)$`)
	soakLines = regexp.MustCompile(`(?m)^(FAIL.*|  \S+ \S+ \(seed \d+\): .*)$`)
)

// compileError is the first compiler error in a build's output.
func compileError(out string) string {
	if m := goError.FindStringSubmatch(out); m != nil {
		return m[2]
	}
	return "the build failed (see the log)"
}

// propertyFailure says what failed in a property suite's output: the
// failing tests and the first line saying why.
func propertyFailure(out string, err error) string {
	var tests []string
	for _, m := range topFail.FindAllStringSubmatch(out, -1) {
		tests = append(tests, m[1])
	}
	why := ""
	if m := failLine.FindStringSubmatch(out); m != nil {
		why = strings.Join(strings.Fields(m[1]), " ")
	}
	switch {
	case len(tests) > 0 && why != "":
		return strings.Join(tests, ", ") + ": " + why
	case len(tests) > 0:
		return strings.Join(tests, ", ")
	case why != "":
		return why
	}
	return fmt.Sprintf("the suite failed: %v", err)
}

// soakFailure says what the soak found: its FAIL line and failures.
func soakFailure(out string, err error) string {
	lines := soakLines.FindAllString(out, 3)
	if len(lines) == 0 {
		tail := strings.TrimSpace(out)
		if i := strings.LastIndexByte(tail, '\n'); i >= 0 {
			tail = tail[i+1:]
		}
		return fmt.Sprintf("the soak exited: %v; %s", err, tail)
	}
	return strings.Join(lines, "; ")
}
