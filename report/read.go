package report

import (
	"errors"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// ErrSchema is wrapped by the error [Read] returns when report.json has no
// schema version or one other than [SchemaVersion]; check with errors.Is.
var ErrSchema = errors.New("report: unsupported schema version")

// Read reads a report.json written by [Write]. path is the file or the
// directory holding [JSONFile]. It returns an error naming the file when
// the file cannot be read, is not one well-formed JSON object (trailing
// data included), or carries a schema version other than [SchemaVersion]
// and [OldSchemaVersions] (wrapping [ErrSchema]). Fields the schema does not know are ignored.
// Read may be called concurrently.
func Read(path string) (*Report, error) {
	return reportkit.Read[Report](reportSchema, path)
}

// reportSchema is what Read reads.
var reportSchema = reportkit.Schema{File: JSONFile, Version: SchemaVersion, Older: OldSchemaVersions, Err: ErrSchema, Prefix: "report", What: "a report.json"}
