package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/nimsync/nimsync/internal/atomicfile"
)

// File names [WriteReport] puts in a report's directory, beside the plots
// (group-<group>.png, scaling-<case>.png).
const (
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	RawFile      = "raw.txt"
)

// ErrSchema is wrapped by the error [ReadReport] returns when a report.json
// has no schema version or one other than [SchemaVersion]; check with
// errors.Is.
var ErrSchema = errors.New("bench: unsupported report schema version")

// WriteReport writes r into dir (created if missing): [JSONFile] (indented
// JSON with Schema set to [SchemaVersion]; r itself is not modified),
// [MarkdownFile] (the tables and verdicts a person reads, with the plots
// embedded by relative links), [RawFile] (raw, the benchstat-format
// results [WriteRaw] wrote, as given) and one PNG per plot. JSON has no NaN
// or infinity, so a report holding one is refused with an error naming the
// row and field.
//
// It is all or nothing: everything is rendered in memory first, so a
// rendering error writes nothing; each file then goes to a temporary file
// in dir, synced, and only when all are written are they renamed into
// place, report.json last. If a write or rename fails, WriteReport removes
// its temporary files, the files it had already renamed into place
// (earlier versions they replaced are not restored) and dir itself if it
// created it and it is empty, and returns the error.
//
// It costs some tens of milliseconds per plot; it may be called
// concurrently for different dirs, not for the same dir.
func WriteReport(dir string, r *Report, raw []byte) error {
	if r == nil {
		return fmt.Errorf("bench: WriteReport %s: nil report", dir)
	}
	if err := checkFinite(r); err != nil {
		return fmt.Errorf("bench: WriteReport %s: %w", dir, err)
	}
	c := *r
	c.Schema = SchemaVersion
	js, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: encode %s: %w", JSONFile, err)
	}
	figs, err := figures(&c)
	if err != nil {
		return err
	}
	files := make([]file, 0, len(figs)+3)
	for _, f := range figs {
		b, err := f.chart.png()
		if err != nil {
			return fmt.Errorf("bench: plot %s: %w", f.File, err)
		}
		files = append(files, file{Name: f.File, Data: b})
	}
	files = append(files,
		file{Name: RawFile, Data: raw},
		file{Name: MarkdownFile, Data: markdown(&c, figs)},
		file{Name: JSONFile, Data: append(js, '\n')},
	)
	return writeFiles(dir, files)
}

// ReadReport reads a report.json written by [WriteReport]; path is the
// file or the directory holding it. The error names the file when it
// cannot be read, is not one well-formed JSON object, or carries a schema
// version other than [SchemaVersion] (wrapping [ErrSchema]: the version is
// checked first, so a report of another version fails with its version,
// not with whichever field changed shape). Fields the schema does not know
// are ignored. It may be called concurrently.
func ReadReport(path string) (*Report, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, JSONFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bench: reading the report: %w", err)
	}
	var probe struct {
		Schema *int `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("bench: %s: malformed JSON: %w", path, err)
	}
	switch {
	case probe.Schema == nil:
		return nil, fmt.Errorf("%w: %s has no \"schema\" field; is it a bench report.json?", ErrSchema, path)
	case *probe.Schema != SchemaVersion:
		return nil, fmt.Errorf("%w: %s has schema %d, this reader knows %d", ErrSchema, path, *probe.Schema, SchemaVersion)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("bench: %s: malformed report: %w", path, err)
	}
	return &r, nil
}

// checkFinite returns an error naming the first float of r that is NaN or
// infinite.
func checkFinite(r *Report) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(r.Machine.LineRTTNs) {
		return fmt.Errorf("machine line_rtt_ns is %v; JSON cannot hold it", r.Machine.LineRTTNs)
	}
	for _, row := range r.Rows {
		fail := func(field string, v float64) error {
			return fmt.Errorf("row %s (%s) %s is %v; JSON cannot hold it", caseLabel(&row), row.Metric, field, v)
		}
		if bad(row.Ratio) {
			return fail("ratio", row.Ratio)
		}
		for i, v := range row.Ratios {
			if bad(v) {
				return fail(fmt.Sprintf("ratios[%d]", i), v)
			}
		}
		if row.Claim != nil && bad(row.Claim.Value) {
			return fail("claim value", row.Claim.Value)
		}
		for _, im := range row.Impls {
			if bad(im.Median) {
				return fail(im.Name+" median", im.Median)
			}
			for i, v := range im.Samples {
				if bad(v) {
					return fail(fmt.Sprintf("%s samples[%d]", im.Name, i), v)
				}
			}
		}
	}
	return nil
}

// file is one file of a report: its name within the directory and contents.
type file = atomicfile.File

// writeFiles writes files into dir, all or none (atomicfile.WriteAll).
func writeFiles(dir string, files []file) error {
	if err := atomicfile.WriteAll(dir, files); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
