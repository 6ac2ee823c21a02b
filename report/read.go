package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrSchema is wrapped by the error [Read] returns when report.json has no
// schema version or one other than [SchemaVersion]; check with errors.Is.
var ErrSchema = errors.New("report: unsupported schema version")

// Read reads a report.json written by [Write]. path is the file or the
// directory holding [JSONFile]. It returns an error naming the file when
// the file cannot be read, is not one well-formed JSON object (trailing
// data included), or carries a schema version other than [SchemaVersion]
// (wrapping [ErrSchema]). Fields the schema does not know are ignored.
// Read may be called concurrently.
func Read(path string) (*Report, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, JSONFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}

	// The version first, so that a report of another version fails with
	// the version, not with whatever field changed shape.
	var probe struct {
		Schema *int `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("report: %s: malformed JSON: %w", path, err)
	}
	switch {
	case probe.Schema == nil:
		return nil, fmt.Errorf("%w: %s has no \"schema\" field; is it a report.json?", ErrSchema, path)
	case *probe.Schema != SchemaVersion:
		return nil, fmt.Errorf("%w: %s has schema %d, this reader knows %d", ErrSchema, path, *probe.Schema, SchemaVersion)
	}

	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("report: %s: malformed report: %w", path, err)
	}
	return &r, nil
}
