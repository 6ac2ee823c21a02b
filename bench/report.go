package bench

import (
	"errors"
	"fmt"

	"github.com/nimsync/nimsync/internal/atomicfile"
	"github.com/nimsync/nimsync/internal/reportkit"
)

// ErrSchema is wrapped by the error [ReadReport] returns when a report.json
// has no schema version or one other than [SchemaVersion]; check with
// errors.Is.
var ErrSchema = errors.New("bench: unsupported report schema version")

// File names [WriteReport] puts in a report's directory, beside the plots
// (group-<group>.png, scaling-<case>.png).
const (
	JSONFile     = "report.json"
	MarkdownFile = "report.md"
	RawFile      = "raw.txt"
)

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
	if err := checkFinite(r); err != nil {
		return fmt.Errorf("bench: WriteReport %s: %w", dir, err)
	}
	c := *r
	c.Schema = SchemaVersion
	figs, err := figures(&c)
	if err != nil {
		return err
	}
	files := make([]atomicfile.File, 0, len(figs)+3)
	for _, f := range figs {
		b, err := f.chart.PNG()
		if err != nil {
			return fmt.Errorf("bench: plot %s: %w", f.File, err)
		}
		files = append(files, atomicfile.File{Name: f.File, Data: b})
	}
	js, err := reportSchema.Encode(&c)
	if err != nil {
		return err
	}
	files = append(files,
		atomicfile.File{Name: RawFile, Data: raw},
		atomicfile.File{Name: MarkdownFile, Data: markdown(&c, figs)},
		atomicfile.File{Name: JSONFile, Data: js},
	)
	if err := atomicfile.WriteAll(dir, files); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// ReadReport reads a report.json written by [WriteReport]; path is the
// file or the directory holding it. The error names the file when it
// cannot be read, is not one well-formed JSON object, or carries a schema
// version other than [SchemaVersion] (wrapping [ErrSchema]: the version is
// checked first, so a report of another version fails with its version,
// not with whichever field changed shape). Fields the schema does not know
// are ignored. It may be called concurrently.
func ReadReport(path string) (*Report, error) {
	return reportkit.Read[Report](reportSchema, path)
}

// reportSchema is what ReadReport reads.
var reportSchema = reportkit.Schema{File: JSONFile, Version: SchemaVersion, Err: ErrSchema, Prefix: "bench", What: "a bench report.json"}

// checkFinite returns an error naming the first float of r that is NaN or
// infinite, or saying that r is nil.
func checkFinite(r *Report) error {
	if r == nil {
		return errors.New("nil report")
	}
	var f reportkit.Finite
	f.Check(r.Machine.LineRTTNs, "machine line_rtt_ns")
	if p := r.Placement; p != nil {
		f.Check(p.ThresholdNs, "placement threshold_ns")
		for _, c := range p.Places {
			f.Check(c.MedianRTTNs, "placement %s median_rtt_ns", c.Place)
		}
	}
	for _, row := range r.Rows {
		label := caseLabel(&row)
		f.Check(row.Ratio, "row %s (%s) ratio", label, row.Metric)
		for i, v := range row.LineRTTNs {
			f.Check(v, "row %s (%s) line_rtt_ns[%d]", label, row.Metric, i)
		}
		for i, v := range row.Ratios {
			f.Check(v, "row %s (%s) ratios[%d]", label, row.Metric, i)
		}
		if row.Claim != nil {
			f.Check(row.Claim.Value, "row %s (%s) claim value", label, row.Metric)
		}
		for _, im := range row.Impls {
			f.Check(im.Median, "row %s (%s) %s median", label, row.Metric, im.Name)
			for i, v := range im.Samples {
				f.Check(v, "row %s (%s) %s samples[%d]", label, row.Metric, im.Name, i)
			}
		}
	}
	return f.Err()
}
