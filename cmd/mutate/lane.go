package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nimsync/nimsync/internal/atomicfile"
	"github.com/nimsync/nimsync/internal/mutation"
)

// runLane runs the lane in root with cfg and returns the exit code.
func runLane(ctx context.Context, root string, cfg config, stdout, stderr io.Writer) int {
	started := time.Now()
	work, out := absIn(root, cfg.work), absIn(root, cfg.out)
	if err := os.MkdirAll(work, 0o755); err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return exitError
	}
	unlock, err := lockDir(work)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return exitError
	}
	defer unlock()

	// The snapshot: what is measured, whatever else changes the tree meanwhile.
	src := filepath.Join(work, "src")
	rev, err := snapshot(root, src, cfg.rev)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: snapshot: %v\n", err)
		if cfg.rev != "" {
			return exitUsage
		}
		return exitError
	}
	files, err := expandFiles(src, cfg.files)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: --files: %v\n", err)
		return exitUsage
	}
	var all []mutation.Mutant
	for _, f := range files {
		text, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			fmt.Fprintf(stderr, "mutate: %v\n", err)
			return exitError
		}
		ms, err := mutation.Find(f, text, cfg.ops)
		if err != nil {
			fmt.Fprintf(stderr, "mutate: %s: %v\n", f, err)
			return exitError
		}
		all = append(all, ms...)
	}
	selected := cfg.sel.Apply(all)
	eqText := mutation.DefaultEquivalents
	if cfg.equivalents != "" {
		b, err := os.ReadFile(cfg.equivalents)
		if err != nil {
			fmt.Fprintf(stderr, "mutate: --equivalents: %v\n", err)
			return exitUsage
		}
		eqText = string(b)
	}
	equiv, err := mutation.ParseEquivalents(eqText)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: %v\n", err)
		return exitUsage
	}
	if cfg.list {
		for _, m := range selected {
			note := ""
			if why, ok := equiv[m.Key]; ok {
				note = "  [equivalent: " + why + "]"
			}
			fmt.Fprintf(stdout, "%s:%d:%d\t%s\t%s\t%s%s\n", m.File, m.Line, m.Col, m.Op, m.Change(), m.Func, note)
		}
		fmt.Fprintf(stdout, "%d of %d mutants selected in %d files\n", len(selected), len(all), len(files))
		return exitOK
	}

	rep := &mutation.Report{
		Started: started, Revision: rev, Candidates: len(all),
		Command:  "mutate " + strings.Join(cfg.args, " "),
		Settings: cfg.settings(files),
	}
	if stale := staleEquivalents(equiv, all, files, cfg.ops); len(stale) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d listed equivalents match no mutant any more (their line changed; remove them): %s",
			len(stale), strings.Join(stale, "; ")))
	}
	l := &lane{cfg: cfg, src: src, work: work, stderr: stderr}
	if err := l.setup(ctx); err != nil {
		fmt.Fprintf(stderr, "mutate: setup: %v\n", err)
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitError
	}
	rep.Machine = fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), l.goVersion)

	// The unmutated snapshot must pass what every mutant runs: otherwise
	// every mutant would count as killed.
	for i := 0; i < cfg.baselineRuns; i++ {
		r := l.try(ctx, 0, nil, fmt.Sprintf("baseline-%d", i+1))
		if ctx.Err() != nil {
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "mutate: baseline %d/%d: %s in %.0fs\n", i+1, cfg.baselineRuns, r.Status, r.Seconds)
		if r.Status != mutation.Survived {
			fmt.Fprintf(stderr, "mutate: the unmutated snapshot did not pass (%s at %s: %s); log %s\n"+
				"mutate: fix the tree or pick another --chaos-seed; nothing was measured\n", r.Status, r.Stage, r.Reason, r.Log)
			return exitError
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("baseline run %d (no mutation) passed in %.0fs", i+1, r.Seconds))
	}

	var (
		mu      sync.Mutex
		done    int
		pending = make(chan int)
		wg      sync.WaitGroup
	)
	var toRun []int
	for i, m := range selected {
		if why, ok := equiv[m.Key]; ok && !cfg.runEquivalents {
			rep.Results = append(rep.Results, mutation.Result{Mutant: m, Status: mutation.Equivalent, Known: why})
			continue
		}
		toRun = append(toRun, i)
	}
	fmt.Fprintf(stderr, "mutate: %d mutants to run (%d selected of %d; %d listed as equivalent, not run), %d at once, budget %v each\n",
		len(toRun), len(selected), len(all), len(selected)-len(toRun), cfg.jobs, cfg.budget)
	for j := 0; j < cfg.jobs; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pending {
				m := selected[i]
				r := l.try(ctx, j, &m, fmt.Sprintf("m%04d", i))
				if ctx.Err() != nil {
					continue // interrupted: not counted
				}
				r.Known = equiv[m.Key]
				mu.Lock()
				done++
				rep.Results = append(rep.Results, r)
				fmt.Fprintf(stderr, "[%*d/%d] %-12s %s %s %s (%s) %.0fs\n", len(fmt.Sprint(len(toRun))), done, len(toRun),
					r.Status, m.Where(), m.Op, m.Change(), short(r.Stage+": "+r.Reason, 100), r.Seconds)
				mu.Unlock()
			}
		}()
	}
feed:
	for _, i := range toRun {
		select {
		case pending <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(pending)
	wg.Wait()

	rep.Interrupted = ctx.Err() != nil
	rep.Seconds = time.Since(started).Seconds()
	rep.Finish()
	if err := atomicfile.WriteAll(out, []atomicfile.File{{Name: "report.json", Data: rep.JSON()}, {Name: "report.md", Data: rep.Markdown()}}); err != nil {
		fmt.Fprintf(stderr, "mutate: writing the report: %v\n", err)
		return exitError
	}
	c := rep.Counts
	fmt.Fprintf(stdout, "score %s: %d killed (%d timed out), %d survived, %d equivalent, %d not compiled, of %d mutants (%d candidates) in %s\n",
		mutation.ScoreText(rep.Score), c.Killed, c.TimedOut, c.Survived, c.Equivalent, c.NotCompiled, c.Mutants, rep.Candidates,
		time.Duration(rep.Seconds*float64(time.Second)).Round(time.Second))
	for _, r := range rep.Results {
		if r.Status == mutation.Survived && r.Known == "" {
			fmt.Fprintf(stdout, "  survived %s %s %s: %s\n", r.Where(), r.Op, r.Change(), r.LineText)
		}
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(out, "report.md"))
	switch {
	case rep.Interrupted:
		return exitInterrupted
	case cfg.minScore >= 0 && rep.Score >= 0 && rep.Score < cfg.minScore:
		fmt.Fprintf(stderr, "mutate: score %s is below --min-score %s\n", mutation.ScoreText(rep.Score), mutation.ScoreText(cfg.minScore))
		return exitLow
	}
	return exitOK
}

// staleEquivalents lists the keys of the equivalents list that name a
// mutant of one of files, for one of ops, that Find no longer returns.
func staleEquivalents(equiv map[string]string, all []mutation.Mutant, files []string, ops []mutation.Operator) []string {
	found := map[string]bool{}
	for _, m := range all {
		found[m.Key] = true
	}
	var stale []string
	for key := range equiv {
		parts := strings.SplitN(key, "|", 4)
		if len(parts) == 4 && slices.Contains(files, parts[0]) && slices.Contains(ops, mutation.Operator(parts[2])) && !found[key] {
			stale = append(stale, key)
		}
	}
	slices.Sort(stale)
	return stale
}

// settings lists the lane's parameters for the report.
func (c config) settings(files []string) map[string]string {
	s := map[string]string{
		"files":              strings.Join(files, ", "),
		"operators":          fmt.Sprint(c.ops),
		"budget per mutant":  c.budget.String(),
		"chaos seed":         fmt.Sprint(c.chaosSeed),
		"property budget":    c.propertyBudget.String(),
		"properties skipped": "`" + c.skip + "`",
		"jobs":               fmt.Sprint(c.jobs),
	}
	if c.soakDuration > 0 {
		s["soak"] = fmt.Sprintf("--duration %v --scale %g --seed %d", c.soakDuration, c.soakScale, c.chaosSeed)
	} else {
		s["soak"] = "none"
	}
	if c.sel.Max > 0 {
		s["sample"] = fmt.Sprintf("at most %d mutants, seed %d", c.sel.Max, c.sel.Seed)
	}
	if c.sel.Shards > 1 {
		s["shard"] = fmt.Sprintf("%d/%d", c.sel.Shard, c.sel.Shards)
	}
	if len(c.lines) > 0 {
		var parts []string
		for _, r := range c.lines {
			p := fmt.Sprintf("%d-%d", r.Lo, r.Hi)
			if r.File != "" {
				p = r.File + ":" + p
			}
			parts = append(parts, p)
		}
		s["lines"] = strings.Join(parts, ", ")
	}
	return s
}

// short cuts s to n bytes.
func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

func absIn(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// expandFiles expands the --files patterns within src into slash paths
// relative to it, in order, leaving out tests and the files never
// mutated. A pattern that names such a file or matches nothing is an
// error.
func expandFiles(src string, patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		matches, err := filepath.Glob(filepath.Join(src, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", p, err)
		}
		n := 0
		for _, m := range matches {
			rel, _ := filepath.Rel(src, m)
			rel = filepath.ToSlash(rel)
			if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || neverMutated(rel) {
				if rel == p {
					return nil, fmt.Errorf("%s is never mutated (tests, %s)", p, strings.Join(excludedFiles, ", "))
				}
				continue
			}
			n++
			if !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%q matches no file to mutate", p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// neverMutated reports whether file matches one of excludedFiles.
func neverMutated(file string) bool {
	for _, p := range excludedFiles {
		if ok, _ := path.Match(p, file); ok {
			return true
		}
	}
	return false
}

// snapshot copies the module at root into dir (emptied first): the commit
// rev through git archive, or with rev empty the working tree's files
// (git's tracked and untracked files, not the ignored ones). It returns
// the revision measured: a commit, with "+dirty" for a working tree that
// differs from it.
func snapshot(root, dir, rev string) (string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	git := func(args ...string) ([]byte, error) {
		cmd := exec.Command("git", append([]string{"-C", root}, args...)...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
		}
		return out, nil
	}
	if rev != "" {
		id, err := git("rev-parse", "--verify", rev+"^{commit}")
		if err != nil {
			return "", err
		}
		archive, err := git("archive", "--format=tar", strings.TrimSpace(string(id)))
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(id)), untar(archive, dir)
	}
	list, err := git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return "", err
	}
	for _, f := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return "", err
		}
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return "", err
		}
	}
	head, err := git("rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(head))
	if st, err := git("status", "--porcelain"); err == nil && len(bytes.TrimSpace(st)) > 0 {
		id += "+dirty"
	}
	return id, nil
}

// untar writes the regular files of the tar archive b under dir.
func untar(b []byte, dir string) error {
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return fmt.Errorf("archive entry %q leaves the snapshot", h.Name)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644|os.FileMode(h.Mode)&0o111); err != nil {
			return err
		}
	}
}
