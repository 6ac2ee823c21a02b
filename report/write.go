package report

import (
	"fmt"

	"github.com/nimsync/nimsync/internal/atomicfile"
	"github.com/nimsync/nimsync/internal/reportkit"
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
	js, err := reportSchema.Encode(&c)
	if err != nil {
		return err
	}
	page, err := renderHTML(&c)
	if err != nil {
		return err
	}
	return writeFiles(dir, []file{
		{Name: MarkdownFile, Data: markdown(&c)},
		{Name: HTMLFile, Data: page},
		{Name: JSONFile, Data: js},
	})
}

// checkFinite returns an error naming the first float of r that is NaN or
// infinite.
func checkFinite(r *Report) error {
	var f reportkit.Finite
	f.Check(r.Elapsed, "elapsed_s")
	for _, l := range []struct {
		name string
		v    float64
	}{
		{"goroutine_slope_per_s", r.Leak.GoroutineSlope}, {"heap_slope_bytes_per_s", r.Leak.HeapSlope},
		{"goroutine_tolerance_per_s", r.Leak.GoroutineTolerance}, {"heap_tolerance_bytes_per_s", r.Leak.HeapTolerance},
	} {
		f.Check(l.v, "leak %s", l.name)
	}
	for _, sc := range r.Scenarios {
		f.Check(sc.Seconds, "scenario %q seconds", sc.Name)
		f.Check(sc.OpsPerSec, "scenario %q ops_per_s", sc.Name)
		for i, s := range sc.Samples {
			f.Check(s.T, "scenario %q sample %d t_s", sc.Name, i)
			f.Check(s.OpsPerSec, "scenario %q sample %d ops_per_s", sc.Name, i)
		}
	}
	for i, run := range r.Runs {
		f.Check(run.Start, "run %d (%s) start_s", i, run.Scenario)
		f.Check(run.Seconds, "run %d (%s) seconds", i, run.Scenario)
	}
	for i, s := range r.Runtime {
		f.Check(s.T, "runtime sample %d t_s", i)
	}
	return f.Err()
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
