package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/internal/mutation"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBadUsageExits2(t *testing.T) {
	for _, args := range [][]string{
		{"--jobs", "0"},
		{"--budget", "0s"},
		{"--shard", "3/3"},
		{"--shard", "x"},
		{"--lines", "9-1"},
		{"--ops", "NOPE"},
		{"--min-score", "120%"},
		{"--soak-scale", "2"},
		{"--skip", "("},
		{"--max-mutants", "-1"},
		{"stray"},
		{"--no-such-flag"},
	} {
		var stdout, stderr bytes.Buffer
		require.Equal(t, exitUsage, run(args, &stdout, &stderr), "%v: %s", args, stderr.String())
	}
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"--help"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-max-mutants")
}

func TestFlags(t *testing.T) {
	c, err := parseFlags([]string{"--files", "core/park.go, core/group.go", "--lines", "core/park.go:10-20", "--min-score", "80%",
		"--max-mutants", "30", "--seed", "9", "--shard", "1/4", "--ops", "all", "--budget", "3m"}, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, []string{"core/park.go", "core/group.go"}, c.files)
	require.InDelta(t, 0.8, c.minScore, 1e-9)
	require.Equal(t, mutation.Selection{Lines: []mutation.LineRange{{File: "core/park.go", Lo: 10, Hi: 20}}, Max: 30, Seed: 9, Shard: 1, Shards: 4}, c.sel)
	require.Len(t, c.ops, len(mutation.Operators))
	require.Equal(t, 3*time.Minute, c.budget)
	c, err = parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, -1.0, c.minScore, "no --min-score: never exit 1")
	require.Equal(t, 1, c.jobs)
	require.Equal(t, mutation.DefaultOperators, sortedCopy(c.ops))
}

func sortedCopy(ops []mutation.Operator) []mutation.Operator {
	var out []mutation.Operator
	for _, op := range mutation.DefaultOperators {
		for _, o := range ops {
			if o == op {
				out = append(out, o)
			}
		}
	}
	return out
}

func TestExpandFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"core/park.go", "core/park_test.go", "core/planted_off.go", "core/planted_chaos.go", "core/tuning.go",
		"core/failpoints.go", "core/group.go", "core/notes.txt"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("package core\n"), 0o644))
	}
	files, err := expandFiles(dir, []string{"core/*.go", "core/park.go"})
	require.NoError(t, err)
	require.Equal(t, []string{"core/group.go", "core/park.go"}, files)
	for _, never := range []string{"core/planted_off.go", "core/planted_chaos.go", "core/tuning.go", "core/failpoints.go", "core/park_test.go"} {
		_, err = expandFiles(dir, []string{never})
		require.ErrorContains(t, err, "never mutated", never)
	}
	_, err = expandFiles(dir, []string{"core/nothing*.go"})
	require.ErrorContains(t, err, "matches no file")
}

func TestWhatKilledIt(t *testing.T) {
	props := `--- FAIL: TestGroupModel (3.19s)
    group_model_test.go:673: property failed with seed 45:
        ! Group follows its model: Falsified after 60 passed tests.
        > Labels of failing property: Wait = nil, want the first error
FAIL
`
	require.Equal(t, "TestGroupModel: ! Group follows its model: Falsified after 60 passed tests.", propertyFailure(props, errors.New("exit status 1")))
	require.Equal(t, "leak after the suite: 1 parked waiters", propertyFailure("PASS\nleak after the suite: 1 parked waiters\n", errors.New("exit status 1")))
	require.Equal(t, "the suite failed: signal: killed", propertyFailure("", errors.New("signal: killed")))

	soak := "soak 0/1: elapsed 11s\nFAIL: 3 runs, 100 operations in 12.0s, 1 failures; leak check: flat\n  violation mpsc-fanin (seed 7): value 12 received twice\n    repro: scripts/nimsync repro x\n"
	require.Equal(t, "FAIL: 3 runs, 100 operations in 12.0s, 1 failures; leak check: flat;   violation mpsc-fanin (seed 7): value 12 received twice", soakFailure(soak, errors.New("exit status 1")))
	require.True(t, strings.HasPrefix(soakFailure("panic: boom\n\ngoroutine 1 [running]:\nmain.main()", errors.New("exit status 2")), "the soak exited: exit status 2;"))

	build := "# github.com/nimsync/nimsync/core\n/tmp/failpoint-toolexec/github.com/nimsync/nimsync/core/park.go:183:2: declared and not used: w\n[failpoint-toolexec]2026/12/07 failed to run command exit status 2\n"
	require.Equal(t, "declared and not used: w", compileError(build))
	require.Equal(t, "the build failed (see the log)", compileError("no go file here\n"))
}

func TestStaleEquivalents(t *testing.T) {
	all := []mutation.Mutant{{Key: "core/a.go|f|REMOVE_CALL|x()→|x()#0"}}
	equiv := map[string]string{
		"core/a.go|f|REMOVE_CALL|x()→|x()#0":             "still there",
		"core/a.go|f|REMOVE_CALL|y()→|y()#0":             "gone",
		"core/b.go|f|REMOVE_CALL|y()→|y()#0":             "another file: not checked",
		"core/a.go|f|CONDITIONALS_BOUNDARY|<→<=|a < b#0": "another operator: not checked",
	}
	require.Equal(t, []string{"core/a.go|f|REMOVE_CALL|y()→|y()#0"},
		staleEquivalents(equiv, all, []string{"core/a.go"}, []mutation.Operator{mutation.RemoveCall}))
}
