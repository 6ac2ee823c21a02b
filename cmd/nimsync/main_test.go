package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/report"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// ants starts the goroutines of its default pool when the package
		// is initialized; package bench imports it as a peer.
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
	)
}

// nimsync runs the command in-process and returns its exit code and output.
func nimsync(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestList(t *testing.T) {
	code, out, _ := nimsync(t, "list")
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(scenarios.All), "one line a scenario")
	for i, s := range scenarios.All {
		assert.True(t, strings.HasPrefix(lines[i], s.Name+" "), lines[i])
	}
}

func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(notDir, []byte("x"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"list", "extra"}, "no arguments"},
		{[]string{"run"}, "one scenario"},
		{[]string{"run", "no-such"}, `unknown scenario "no-such"`},
		{[]string{"run", "spsc-stream", "--seed", "-3"}, "malformed seed"},
		{[]string{"run", "spsc-stream", "--seed", "x1"}, "malformed seed"},
		{[]string{"run", "spsc-stream", "--scale", "0"}, "bad --scale 0: want a positive number"},
		{[]string{"run", "spsc-stream", "--chaos"}, "failpoint build"},
		{[]string{"run", "spsc-stream", "--sched", "fifo"}, "bad --sched"},
		{[]string{"run", "spsc-stream", "--sched", "pct:0"}, "bad --sched"},
		{[]string{"run", "spsc-stream", "--sched", "dfs:2"}, "not a strategy for one run"},
		{[]string{"run", "spsc-stream", "--sched", "random"}, "--sched needs a failpoint build"},
		{[]string{"soak", "--chaos=off", "--sched", "pct:two"}, "bad --sched"},
		{[]string{"soak", "--chaos=off", "--sched", "pct:2"}, "--sched needs a failpoint build"},
		{[]string{"repro", "--scenario", "spsc-stream", "--seed", "1", "--sched", "dfs"}, "bad --sched"},
		{[]string{"soak", "--sched", "swarm:"}, "lists no strategy"},
		{[]string{"soak", "--sched", "swarm:free,fifo"}, `member "fifo"`},
		{[]string{"soak", "--sched", "swarm:random,dfs:1"}, "bounded exhaustive search"},
		{[]string{"soak", "--sched", "swarm:pct:2,random,pct:2"}, "lists pct:2 twice"},
		{[]string{"soak", "--chaos=off", "--sched", "swarm"}, "draws free-running runs, which run under their fault plan: drop --chaos=off, or leave free out (--sched swarm:random,pct:1,pct:2,pct:3)"},
		{[]string{"soak", "--chaos=off", "--sched", "swarm:free,pct:2"}, "leave free out (--sched swarm:pct:2)"},
		{[]string{"soak", "--chaos=off", "--sched", "swarm:random,pct:2"}, "--sched swarm:random,pct:2 needs a failpoint build"},
		{[]string{"run", "spsc-stream", "--sched", "swarm"}, "draws free-running runs, which run under their fault plan: add --chaos"},
		{[]string{"run", "spsc-stream", "--sched", "swarm:pct:1"}, "needs a failpoint build"},
		{[]string{"repro", "--scenario", "spsc-stream", "--seed", "1", "--sched", "swarm:free"}, "add --chaos"},
		{[]string{"repro", "--scenario", "spsc-stream", "--seed", "1", "--sched", "swarm:pct:x"}, "bad --sched"},
		{[]string{"soak", "--duration", "soon"}, `bad --duration "soon": want a duration such as 30s`},
		{[]string{"soak", "--duration", "-1s"}, "bad --duration -1s: want a duration of 0 or more"},
		{[]string{"soak", "--chaos=off", "--stall", "0s"}, "bad --stall 0s: want a positive duration"},
		{[]string{"soak", "--chaos=off", "--runs", "x"}, `bad --runs "x": want an integer`},
		{[]string{"soak", "--chaos=off", "--seed"}, "flag --seed needs a value"},
		{[]string{"run", "spsc-stream", "--chaos=maybe"}, `bad --chaos "maybe": want swarm or off`},
		{[]string{"repro", "--runs", "0", "--scenario", "spsc-stream", "--seed", "1"}, "bad --runs 0: want a number of replays of 1 or more"},
		{[]string{"version", "extra"}, "no arguments"},
		{[]string{"soak", "--scenarios", "spsc-stream,nope"}, `unknown scenario "nope"`},
		{[]string{"soak", "--chaos=maybe"}, `bad --chaos "maybe": want swarm or off`},
		{[]string{"soak", "--chaos", "maybe"}, `soak takes no arguments (got "maybe")`},
		{[]string{"soak", "--chaos=swarm"}, "failpoint build"},
		{[]string{"soak", "--chaos=off", "--shard", "3/3"}, "bad --shard"},
		{[]string{"soak", "--chaos=off", "--shard", "x"}, "bad --shard"},
		{[]string{"soak", "--chaos=off", "--out", filepath.Join(notDir, "sub")}, "--out"},
		{[]string{"soak", "--chaos=off", "--metrics-addr", "nonsense:-1"}, "--metrics-addr"},
		{[]string{"soak", "--bogus"}, "unknown flag --bogus"},
		{[]string{"soak", "--chaos=off", "--shards", "3"}, "needs JOB_COMPLETION_INDEX"},
		{[]string{"soak", "--chaos=off", "--scale", "NaN"}, "--scale"},
		{[]string{"run", "spsc-stream", "--scale", "+Inf"}, "bad --scale +Inf"},
		{[]string{"repro"}, "artifact directory"},
		{[]string{"repro", filepath.Join(dir, "missing")}, "reading the artifact"},
		{[]string{"repro", notDir}, "not an artifact"},
		{[]string{"repro", "--scenario", "nope", "--seed", "1"}, `unknown scenario "nope"`},
		{[]string{"report"}, "merge or compare"},
		{[]string{"report", "merge", dir}, "needs --out"},
		{[]string{"report", "merge", "--out", dir, filepath.Join(dir, "missing")}, "missing"},
		{[]string{"report", "compare", dir}, "two reports"},
		{[]string{"report", "compare", "--alpha", "2", dir, dir}, "--alpha"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := nimsync(t, tc.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tc.want)
			if len(tc.args) > 0 && !strings.Contains(stderr, "Usage") {
				assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
				assert.Contains(t, stderr, "(see '"+helpFor(tc.args)+"')")
			}
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "bad usage leaves nothing behind")
}

func TestShardFromJobIndex(t *testing.T) {
	t.Setenv("JOB_COMPLETION_INDEX", "5")
	code, _, stderr := nimsync(t, "soak", "--chaos=off", "--shards", "4")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `bad JOB_COMPLETION_INDEX "5" for 4 shards`)
	code, _, stderr = nimsync(t, "soak", "--chaos=off")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "give the shard count")
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	code, stdout, stderr := nimsync(t, "soak", "--chaos=off", "--shards", "2", "--runs", "4", "--scale", "0.01", "--seed", "3")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "shard 1/2")
	require.Contains(t, stdout, "PASS: 2 runs")
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"run", "soak", "repro", "list"} {
		code, _, stderr := nimsync(t, cmd, "--help")
		assert.Equal(t, exitOK, code, cmd)
		assert.Contains(t, stderr, "usage: nimsync "+cmd)
	}
	code, out, _ := nimsync(t, "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "nimsync soak")
}

func TestRun(t *testing.T) {
	code, out, stderr := nimsync(t, "run", "group-100k", "--seed", "7", "--scale", "0.01")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "PASS: 1 runs")
	assert.Contains(t, stderr, "rerun: scripts/nimsync run group-100k --seed 7")
}

// TestSoakReportsAndMerge: a short soak passes and writes the three report
// files and nothing else; two shards merge; a report compares with itself
// without a regression.
func TestSoakReportsAndMerge(t *testing.T) {
	dir := t.TempDir()
	for _, shard := range []string{"0/2", "1/2"} {
		out := filepath.Join(dir, "shard-"+shard[:1])
		code, stdout, stderr := nimsync(t, "soak", "--chaos=off", "--runs", "8", "--seed", "11",
			"--scale", "0.01", "--shard", shard, "--sample", "50ms", "--out", out)
		require.Equal(t, exitOK, code, stdout+stderr)
		assert.Contains(t, stdout, "PASS: 4 runs")
		entries, err := os.ReadDir(out)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		require.ElementsMatch(t, []string{report.JSONFile, report.MarkdownFile, report.HTMLFile}, names)
	}
	merged := filepath.Join(dir, "merged")
	code, stdout, stderr := nimsync(t, "report", "merge", "--out", merged, filepath.Join(dir, "shard-0"), filepath.Join(dir, "shard-1"))
	require.Equal(t, exitOK, code, stdout+stderr)
	r, err := report.Read(merged)
	require.NoError(t, err)
	require.Len(t, r.Runs, 8)
	require.Equal(t, []string{"0/2", "1/2"}, r.Shards)
	// The report says what was tested: the flags (those the shards
	// shared), the bounds, the shard count; every scenario's histogram.
	assert.Equal(t, report.SchemaVersion, r.Schema)
	assert.Equal(t, 2, r.ShardCount)
	assert.Equal(t, 8, r.RunsBound)
	assert.Equal(t, "0.01", r.Flags["scale"])
	assert.Equal(t, "off", r.Flags["chaos"])
	assert.Equal(t, "11", r.Flags["seed"])
	assert.NotContains(t, r.Flags, "shard", "each shard's own")
	assert.Contains(t, r.Flags, "stall", "defaults too")
	for _, sc := range r.Scenarios {
		if sc.Latency.Count > 0 {
			assert.NotEmpty(t, sc.LatencyHDR, sc.Name)
		}
	}
	md, err := os.ReadFile(filepath.Join(merged, report.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| Flags | ")
	assert.Contains(t, string(md), "| Requested | 8 runs, 2 shard(s) |")

	code, stdout, stderr = nimsync(t, "report", "compare", merged, merged)
	require.Equal(t, exitOK, code, stdout+stderr)
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMetricsServedDuringSoak: /metrics serves the live counters while the
// soak runs.
func TestMetricsServedDuringSoak(t *testing.T) {
	var stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"soak", "--chaos=off", "--duration", "3s", "--scale", "0.01", "--sample", "100ms",
			"--metrics-addr", "127.0.0.1:0"}, io.Discard, &stderr)
	}()
	var url string
	require.Eventually(t, func() bool {
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "metrics on "); ok {
				url = rest
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `nimsync_soak_runs_total{result="pass"`)
	}, 3*time.Second, 50*time.Millisecond, "no finished run counted on /metrics")
	for _, m := range []string{"nimsync_soak_elapsed_seconds", "nimsync_soak_goroutines", "nimsync_soak_ops_total", "nimsync_live_tasks", "nimsync_parked_waiters"} {
		assert.Contains(t, body, m)
	}
	require.Equal(t, exitOK, <-done, stderr.String())
	http.DefaultClient.CloseIdleConnections()
}

// TestPushGateway: --push-gateway checks the Pushgateway's health before
// the soak, and pushes the soak's metrics when it ends, grouped by job and
// shard only (stable from night to night: a night's push replaces the last
// one's).
func TestPushGateway(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	code, _, stderr := nimsync(t, "soak", "--chaos=off", "--runs", "2", "--scale", "0.01", "--seed", "4", "--push-gateway", srv.URL)
	require.Equal(t, exitOK, code, stderr)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	assert.Equal(t, "GET /-/healthy ", got[0], "checked before the soak")
	method, rest, _ := strings.Cut(got[1], " ")
	path, body, _ := strings.Cut(rest, " ")
	assert.Equal(t, "PUT", method)
	assert.Equal(t, "/metrics/job/nimsync_soak/shard/0_of_1", path)
	for _, m := range []string{"nimsync_soak_runs_total", "nimsync_build_info", "nimsync_soak_last_success_timestamp_seconds", "go_goroutines", "process_cpu_seconds_total", "nimsync_soak_latency_seconds"} {
		assert.Contains(t, body, m)
	}
}

// TestPushGatewayCheckedFirst: a Pushgateway that does not answer, or
// answers its health check with an error, is a usage error before the soak
// runs anything.
func TestPushGatewayCheckedFirst(t *testing.T) {
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for _, tc := range []struct{ url, want string }{
		{sick.URL, "503"},
		{gone.URL, "does not answer"},
		{"pushgateway:9091", "want a URL such as http://pushgateway:9091"},
		{"ftp://x", "want a URL"},
	} {
		out := filepath.Join(t.TempDir(), "soak")
		code, stdout, stderr := nimsync(t, "soak", "--chaos=off", "--runs", "2", "--scale", "0.01", "--push-gateway", tc.url, "--out", out)
		assert.Equal(t, exitUsage, code, tc.url)
		assert.Contains(t, stderr, tc.want, tc.url)
		assert.Empty(t, stdout, "nothing ran")
		assert.NoFileExists(t, filepath.Join(out, report.JSONFile))
	}
}
