package report

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/nimsync/nimsync/internal/atomicfile"
)

// File names Write puts in a report's directory.
const (
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// Write writes r into dir (created if missing) as three files:
// [JSONFile] (indented JSON with Schema set to [SchemaVersion] and Tool
// defaulted to "nimsync"), [MarkdownFile] (the summary a person reads) and
// [HTMLFile] (the same summary with plots, self-contained). r itself is not
// modified. JSON has no NaN or infinity, so a report holding one is
// refused with an error naming the field (producers should write 0, e.g.
// for the ops/s of a scenario that ran for 0 s).
//
// Everything is rendered in memory first, so a rendering error writes
// nothing. Each file is then written to a temporary file in dir, synced,
// and renamed into place, report.json last: a report.json never sits
// beside a half-written md or html. If a write or rename fails, Write
// removes its temporary files and the files it had already renamed into
// place (earlier versions they replaced are not restored) and returns the
// error, so a failed Write leaves no report file of its own behind.
//
// Write costs a few tens of milliseconds per plot; it may be called
// concurrently for different dirs, not for the same dir.
func Write(dir string, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: Write %s: nil report", dir)
	}
	if err := checkFinite(r); err != nil {
		return fmt.Errorf("report: Write %s: %w", dir, err)
	}
	c := *r
	c.Schema = SchemaVersion
	if c.Tool == "" {
		c.Tool = "nimsync"
	}
	js, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode %s: %w", JSONFile, err)
	}
	page, err := renderHTML(&c)
	if err != nil {
		return err
	}
	return writeFiles(dir, []file{
		{Name: MarkdownFile, Data: markdown(&c)},
		{Name: HTMLFile, Data: page},
		{Name: JSONFile, Data: append(js, '\n')},
	})
}

// checkFinite returns an error naming the first float of r that is NaN or
// infinite.
func checkFinite(r *Report) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	fail := func(where, field string, v float64) error {
		return fmt.Errorf("%s%s is %v; JSON cannot hold it", where, field, v)
	}
	if bad(r.Elapsed) {
		return fail("", "elapsed_s", r.Elapsed)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"goroutine_slope_per_s", r.Leak.GoroutineSlope}, {"heap_slope_bytes_per_s", r.Leak.HeapSlope},
		{"goroutine_tolerance_per_s", r.Leak.GoroutineTolerance}, {"heap_tolerance_bytes_per_s", r.Leak.HeapTolerance},
	} {
		if bad(f.v) {
			return fail("leak ", f.name, f.v)
		}
	}
	for _, sc := range r.Scenarios {
		where := fmt.Sprintf("scenario %q ", sc.Name)
		switch {
		case bad(sc.Seconds):
			return fail(where, "seconds", sc.Seconds)
		case bad(sc.OpsPerSec):
			return fail(where, "ops_per_s", sc.OpsPerSec)
		}
		for i, s := range sc.Samples {
			switch {
			case bad(s.T):
				return fail(fmt.Sprintf("%ssample %d ", where, i), "t_s", s.T)
			case bad(s.OpsPerSec):
				return fail(fmt.Sprintf("%ssample %d ", where, i), "ops_per_s", s.OpsPerSec)
			}
		}
	}
	for i, run := range r.Runs {
		where := fmt.Sprintf("run %d (%s) ", i, run.Scenario)
		switch {
		case bad(run.Start):
			return fail(where, "start_s", run.Start)
		case bad(run.Seconds):
			return fail(where, "seconds", run.Seconds)
		}
	}
	for i, s := range r.Runtime {
		if bad(s.T) {
			return fail(fmt.Sprintf("runtime sample %d ", i), "t_s", s.T)
		}
	}
	return nil
}

// file is one file of a report: its name within the directory and contents.
type file = atomicfile.File

// writeFiles writes files into dir, all or none (atomicfile.WriteAll).
func writeFiles(dir string, files []file) error {
	if err := atomicfile.WriteAll(dir, files); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
