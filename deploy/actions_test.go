package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// workflow is the part of a GitHub Actions workflow the test reads.
type workflow struct {
	Jobs map[string]struct {
		Needs   any               `json:"needs"`
		Timeout any               `json:"timeout-minutes"`
		Outputs map[string]string `json:"outputs"`
		Steps   []struct {
			ID   string         `json:"id"`
			Uses string         `json:"uses"`
			Run  string         `json:"run"`
			With map[string]any `json:"with"`
		} `json:"steps"`
	} `json:"jobs"`
}

func readWorkflow(t *testing.T) workflow {
	t.Helper()
	b, err := os.ReadFile("github-actions-nightly.yml")
	require.NoError(t, err)
	var w workflow
	require.NoError(t, yaml.Unmarshal(b, &w))
	return w
}

// TestWorkflowTimeoutFollowsDuration runs the seed job's script for some
// durations: the soak jobs' timeout is the duration plus 30 minutes, and a
// duration no hosted runner allows is refused.
func TestWorkflowTimeoutFollowsDuration(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the step is a bash script")
	}
	w := readWorkflow(t)
	seed := w.Jobs["seed"]
	require.Equal(t, "${{ steps.seed.outputs.timeout }}", seed.Outputs["timeout"])
	require.Equal(t, "${{ fromJSON(needs.seed.outputs.timeout) }}", w.Jobs["soak"].Timeout)
	var script string
	for _, s := range seed.Steps {
		if s.ID == "seed" {
			script = s.Run
		}
	}
	require.NotEmpty(t, script)
	for _, tc := range []struct {
		duration, timeout string
		ok                bool
	}{
		{"", "90", true}, // the default, 60m
		{"90m", "120", true},
		{"1h30m", "120", true},
		{"45s", "31", true},
		{"5h30m", "360", true},
		{"6h", "", false},
		{"soon", "", false},
	} {
		dir := t.TempDir()
		out := filepath.Join(dir, "output")
		cmd := exec.Command("bash", "-e", "-c", script)
		cmd.Env = append(os.Environ(), "SEED=7", "DURATION="+tc.duration, "GITHUB_OUTPUT="+out, "GITHUB_STEP_SUMMARY="+filepath.Join(dir, "summary"))
		msg, err := cmd.CombinedOutput()
		if !tc.ok {
			require.Error(t, err, tc.duration)
			continue
		}
		require.NoError(t, err, "%s: %s", tc.duration, msg)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Contains(t, strings.Split(string(b), "\n"), "timeout="+tc.timeout, tc.duration)
	}
}

// TestWorkflowKeepsBuildCache: every job that builds (runs scripts/) keeps
// Go's caches between runs: setup-go's cache on, and the failpoint
// build's cache restored and saved by actions/cache before it builds.
func TestWorkflowKeepsBuildCache(t *testing.T) {
	w := readWorkflow(t)
	builders := 0
	for name, job := range w.Jobs {
		setupGo, chaosCache, builds := false, false, false
		for _, s := range job.Steps {
			switch {
			case strings.HasPrefix(s.Uses, "actions/setup-go@"):
				setupGo = s.With["cache"] != false
			case strings.HasPrefix(s.Uses, "actions/cache@"):
				path, _ := s.With["path"].(string)
				chaosCache = chaosCache || strings.HasPrefix(path, "~/.cache/nimsync/")
			case strings.Contains(s.Run, "scripts/"):
				if !builds {
					assert.True(t, setupGo && chaosCache, "job %s: the caches are restored before the first build", name)
				}
				builds = true
			}
		}
		if builds {
			builders++
		}
	}
	assert.Equal(t, 3, builders, "soak, mutation, merge")
}
