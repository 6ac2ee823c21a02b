package sched_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTraceHTMLInBrowser renders the HTML trace of a failing run (the
// lock-order inversion's deadlock, with its history) in headless
// Chromium: the DOM after the page's script has a lane per goroutine, the
// steps, the wakes and the failure after the last step, and a screenshot
// is a PNG of the window's size that is not one colour. Without Chromium
// it skips, naming scripts/browser, which installs it; with
// NIMSYNC_BROWSER_TEST=1 (scripts/test sets it) it fails instead. With
// NIMSYNC_BROWSER_OUT=DIR it leaves trace.html, trace.png and dom.html in
// DIR.
func TestTraceHTMLInBrowser(t *testing.T) {
	chromium := browser(t)
	r, hist := deadlocked(t)
	a := r.Artifact()
	dir := t.TempDir()
	if out := os.Getenv("NIMSYNC_BROWSER_OUT"); out != "" {
		require.NoError(t, os.MkdirAll(out, 0o755))
		dir = out
	}
	page := filepath.Join(dir, "trace.html")
	var b bytes.Buffer
	require.NoError(t, a.WriteHTML(&b, sched.TraceOptions{Title: "lock-order inversion (sched's browser test)", History: hist}))
	require.NoError(t, os.WriteFile(page, b.Bytes(), 0o644))
	url := "file://" + page

	shot := filepath.Join(dir, "trace.png")
	_ = os.Remove(shot)
	runBrowser(t, chromium, "--screenshot="+shot, "--window-size=1400,900", url)
	dom := runBrowser(t, chromium, "--dump-dom", "--virtual-time-budget=2000", url)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dom.html"), []byte(dom), 0o644))
	t.Logf("the page %s, its screenshot %s, its DOM %s", page, shot, filepath.Join(dir, "dom.html"))

	for g := range 4 {
		assert.Regexp(t, fmt.Sprintf(`<text class="lane-name"[^>]*>g%d</text>`, g), dom, "lane g%d", g)
		assert.Contains(t, dom, fmt.Sprintf(`<g class="lane" data-g="%d">`, g))
	}
	last := len(a.Decisions) - 1
	assert.Contains(t, dom, fmt.Sprintf(`<g id="end" class="end failed" data-step="%d">`, last), "the failing step")
	assert.Contains(t, dom, fmt.Sprintf("✗ failed after step %d", last))
	assert.Contains(t, dom, fmt.Sprintf("sched: deadlock at step %d:", r.Failure.Step))
	assert.Contains(t, dom, `id="failure"`)
	assert.Equal(t, len(a.Wakes), strings.Count(dom, `<path class="wake`))
	assert.Equal(t, len(a.Preempted), strings.Count(dom, `class="preempt"`))

	f, err := os.Open(shot)
	require.NoError(t, err, "the screenshot")
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, "the screenshot is a PNG")
	require.Equal(t, image.Rect(0, 0, 1400, 900), img.Bounds())
	colours := map[[4]uint32]int{}
	for y := 0; y < 900; y += 3 {
		for x := 0; x < 1400; x += 3 {
			r, g, b, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, b, a}]++
		}
	}
	t.Logf("the screenshot has %d colours (every third pixel of every third row)", len(colours))
	assert.Greater(t, len(colours), 20, "a page, not a blank")
}

// browser returns Chromium's path, or skips (fails, with
// NIMSYNC_BROWSER_TEST=1) if there is none.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no Chromium on this machine (chromium on PATH); scripts/browser installs it (Debian's package chromium)"
	if os.Getenv("NIMSYNC_BROWSER_TEST") == "1" {
		t.Fatal(why + ", and NIMSYNC_BROWSER_TEST=1 asks for the browser test")
	}
	t.Skip(why)
	return ""
}

// runBrowser runs headless Chromium with its own profile and returns what
// it printed on stdout.
func runBrowser(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	require.NoError(t, err, "%s %s: %s", chromium, strings.Join(args, " "), stderr.String())
	t.Logf("chromium %s: %v", args[0], time.Since(start).Round(time.Millisecond))
	return stdout.String()
}
