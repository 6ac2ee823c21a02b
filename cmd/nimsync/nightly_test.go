package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nimsync/nimsync/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNightlyScript drives scripts/nightly with this command (a plain
// build, chaos off): two short nights, each two shards merged into a dated
// directory, the second compared with the first; and bad usage.
func TestNightlyScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs two short nights")
	}
	if runtime.GOOS == "windows" {
		t.Skip("scripts/nightly is a bash script")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "nimsync")
	build := exec.Command("go", "build", "-o", bin, ".")
	built, err := build.CombinedOutput()
	require.NoError(t, err, "%s", built)

	results := filepath.Join(dir, "results")
	night := func(args ...string) (int, string) {
		cmd := exec.Command("../../scripts/nightly", args...)
		cmd.Env = append(os.Environ(), "NIMSYNC_CMD="+bin)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		require.NoError(t, err, "%s", out)
		return 0, string(out)
	}
	args := []string{"-duration", "2s", "-shards", "2", "-seed", "7", "-results", results,
		"--", "--chaos=off", "--scale", "0.01", "--sample", "100ms"}
	code, out := night(args...)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "comparison skipped")
	code, out = night(args...)
	require.Equal(t, 0, code, out)

	nights, err := filepath.Glob(filepath.Join(results, "*"))
	require.NoError(t, err)
	require.Len(t, nights, 2, "two dated nights")
	r, err := report.Read(nights[1])
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"0/2", "1/2"}, r.Shards)
	require.True(t, r.Passed)
	_, err = os.Stat(filepath.Join(nights[1], "compare.md"))
	require.NoError(t, err, "the second night is compared with the first")

	// A perf-lane night (fixed seed, chaos off) is not compared with the
	// bug-hunting lane's nights, and the next perf night is compared with it.
	perf := []string{"-lane", "perf", "-duration", "2s", "-shards", "2", "-results", results,
		"--", "--scale", "0.01", "--sample", "100ms"}
	code, out = night(perf...)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `the lanes differ (base "bugs", current "perf")`)
	require.Contains(t, out, "comparison skipped")
	nights, err = filepath.Glob(filepath.Join(results, "*"))
	require.NoError(t, err)
	require.Len(t, nights, 3)
	code, out = night(perf...)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "comparing with "+nights[2]+"\n")
	nights, err = filepath.Glob(filepath.Join(results, "*"))
	require.NoError(t, err)
	require.Len(t, nights, 4)
	r, err = report.Read(nights[3])
	require.NoError(t, err)
	assert.Equal(t, "perf", r.Lane)
	assert.Equal(t, "off", r.Chaos)
	assert.Equal(t, uint64(1), r.Seed, "the perf lane's fixed seed")
	assert.Equal(t, 2, r.ShardCount)

	code, out = night("-lane", "fast")
	require.Equal(t, 2, code, out)
	code, out = night("-bogus")
	require.Equal(t, 2, code, out)
	code, out = night("-shards", "0")
	require.Equal(t, 2, code, out)
	// Bad soak flags after -- are refused before the night has a directory.
	fresh := filepath.Join(dir, "fresh")
	for _, bad := range [][]string{{"--chaos=maybe"}, {"--duration", "soon"}, {"--bogus"}, {"--scale", "-1"}} {
		code, out = night(append([]string{"-duration", "2s", "-shards", "1", "-results", fresh, "--"}, bad...)...)
		require.Equal(t, 2, code, "%v: %s", bad, out)
		require.Contains(t, out, "bad soak flags after --", bad)
		require.NoDirExists(t, fresh, "%v: no results directory for a night refused", bad)
	}
}
