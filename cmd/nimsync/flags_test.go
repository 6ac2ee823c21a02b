package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChaosFlagForms: --chaos means the same in every command: swarm or
// off, given as --chaos=V, --chaos V, or alone for swarm. A plain build has
// no failpoints, so swarm is refused with the same message whatever the
// form, and off passes (soak --check, which runs nothing).
func TestChaosFlagForms(t *testing.T) {
	for _, args := range [][]string{
		{"soak", "--check", "--chaos"},
		{"soak", "--check", "--chaos=swarm"},
		{"soak", "--check", "--chaos", "swarm"},
		{"soak", "--check", "--chaos=true"},
		{"soak", "--check"}, // swarm is the soak's default
		{"run", "spsc-stream", "--chaos"},
		{"run", "--chaos", "swarm", "spsc-stream"},
		{"repro", "--scenario", "spsc-stream", "--seed", "1", "--chaos=swarm"},
	} {
		code, _, stderr := nimsync(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "failpoint", args)
	}
	for _, args := range [][]string{
		{"soak", "--check", "--chaos=off"},
		{"soak", "--check", "--chaos", "off"},
		{"soak", "--check", "--chaos=false"},
		{"soak", "--check", "--chaos", "off", "--duration", "1h", "--scale", "0.5"},
	} {
		code, stdout, stderr := nimsync(t, args...)
		assert.Equal(t, exitOK, code, "%v: %s", args, stderr)
		assert.Empty(t, stdout, args)
	}
}

// TestSoakCheckCreatesNothing: soak --check runs no run and creates no
// --out directory.
func TestSoakCheckCreatesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "night")
	code, _, stderr := nimsync(t, "soak", "--check", "--chaos=off", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	require.NoDirExists(t, out)
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := nimsync(t, "version")
	require.Equal(t, exitOK, code, stderr)
	line := strings.TrimSpace(stdout)
	assert.NotContains(t, line, "\n", "one line")
	assert.True(t, strings.HasPrefix(line, "nimsync "), line)
	assert.Contains(t, line, runtime.Version())
	assert.Contains(t, line, "failpoints off", "a test binary is a plain build")
	code, _, stderr = nimsync(t, "version", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "usage: nimsync version")
}

// TestInterruptedExitCodes: a signal's exit code is 128 plus its number,
// as a shell reports a process the signal killed: 143 for SIGTERM (what
// Kubernetes sends), 130 for SIGINT.
func TestInterruptedExitCodes(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		ctx, stop := signalContext() // the handler is in place when it returns
		require.NoError(t, syscall.Kill(os.Getpid(), tc.sig))
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: the context did not end", tc.sig)
		}
		assert.Equal(t, tc.want, interrupted(ctx), tc.sig)
		stop()
	}
	ctx, stop := signalContext()
	stop()
	assert.Equal(t, exitInterrupted, interrupted(ctx), "ended without a signal")
	assert.ErrorIs(t, context.Cause(ctx), context.Canceled)
}
