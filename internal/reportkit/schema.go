package reportkit

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Schema describes one kind of versioned report.json, for [Schema.Read].
// It is a value; a zero Schema is not usable.
type Schema struct {
	File    string // the file's name in a report directory: "report.json"
	Version int    // the version this reader knows, and writes
	// Older are earlier versions the reader still accepts: their fields
	// are a subset of Version's (fields added since are left zero).
	Older  []int
	Err    error  // wrapped by the error of a missing or other version
	Prefix string // of the other errors: "bench", "report"
	What   string // what the file should be, in a message: "a report.json"
}

// Read reads the report at path (the file, or the directory holding
// s.File) into v. It fails, naming the file, when the file cannot be read,
// is not one well-formed JSON object, or carries no "schema" field or a
// version other than s.Version and s.Older (wrapping s.Err). The version is checked
// first, so that a report of another version fails with its version, not
// with whichever field changed shape. Fields v does not know are ignored.
func (s Schema) Read(path string, v any) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, s.File)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: reading the report: %w", s.Prefix, err)
	}
	var probe struct {
		Schema *int `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return fmt.Errorf("%s: %s: malformed JSON: %w", s.Prefix, path, err)
	}
	switch {
	case probe.Schema == nil:
		return fmt.Errorf("%w: %s has no \"schema\" field; is it %s?", s.Err, path, s.What)
	case *probe.Schema != s.Version && !slices.Contains(s.Older, *probe.Schema):
		return fmt.Errorf("%w: %s has schema %d, this reader knows %s", s.Err, path, *probe.Schema, s.known())
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %s: malformed report: %w", s.Prefix, path, err)
	}
	return nil
}

// known lists the versions s reads: "2" or "1 and 2".
func (s Schema) known() string {
	vs := append(slices.Clone(s.Older), s.Version)
	slices.Sort(vs)
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Encode returns v as the report.json [Schema.Read] reads: indented JSON
// with a final newline. The caller sets v's schema field.
func (s Schema) Encode(v any) ([]byte, error) {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%s: encode %s: %w", s.Prefix, s.File, err)
	}
	return append(js, '\n'), nil
}

// Read reads the report of type T at path, as [Schema.Read] does.
func Read[T any](s Schema, path string) (*T, error) {
	var v T
	if err := s.Read(path, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Finite finds the first NaN or infinite value among the floats a writer
// checks before it writes a report.json, which cannot hold them. The zero
// value is ready; it is not safe for concurrent use.
type Finite struct{ err error }

// Check notes v if it is the first NaN or infinity seen; format and args
// say which field it is (formatted only then).
func (f *Finite) Check(v float64, format string, args ...any) {
	if f.err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		f.err = fmt.Errorf("%s is %v; JSON cannot hold it", fmt.Sprintf(format, args...), v)
	}
}

// Err returns the error naming the first NaN or infinity checked, or nil.
func (f *Finite) Err() error { return f.err }
