package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.WriteFile(bin, []byte("\x7fELF fake"), 0o755))
	image := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1765000000")
	code, out, stderr := image("--chaos", bin, "--plain", bin, "--out", filepath.Join(dir, "a"), "--tar", filepath.Join(dir, "a.tar"), "--revision", "abc")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `^nimsync:latest sha256:[0-9a-f]{64}\n$`, out)
	code, again, stderr := image("--chaos", bin, "--plain", bin, "--out", filepath.Join(dir, "b"), "--revision", "abc")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, out, again, "SOURCE_DATE_EPOCH fixes the digest")
	assert.FileExists(t, filepath.Join(dir, "a.tar"))

	for _, bad := range [][]string{
		{"--chaos", bin, "--plain", bin},
		{"--chaos", bin, "--plain", bin, "--out", filepath.Join(dir, "c"), "--epoch", "yesterday"},
		{"--bogus"},
	} {
		code, _, _ := image(bad...)
		assert.Equal(t, 2, code, bad)
	}
	code, _, stderr = image("--chaos", bin, "--plain", bin, "--out", filepath.Join(dir, "a"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "not empty")
}
