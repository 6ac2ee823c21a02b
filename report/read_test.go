package report_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/report"
)

func TestReadRejects(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		schema     bool   // the error wraps ErrSchema
		want       string // in the error message
	}{
		{"future schema", `{"schema": 3, "seed": 1}`, true, "schema 3, this reader knows 1 and 2"},
		{"zero schema", `{"schema": 0}`, true, "schema 0"},
		{"no schema", `{"seed": 1}`, true, `no "schema" field`},
		{"null", `null`, true, `no "schema" field`},
		{"garbage", "\x00\x01 not json", false, "malformed JSON"},
		{"truncated", `{"schema": 1, "seed": `, false, "malformed JSON"},
		{"trailing data", `{"schema": 1} {"schema": 1}`, false, "malformed JSON"},
		{"array", `[1, 2]`, false, "malformed JSON"},
		{"wrong field type", `{"schema": 1, "seed": "forty-two"}`, false, "malformed report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), report.JSONFile)
			require.NoError(t, os.WriteFile(path, []byte(tc.data), 0o644))
			r, err := report.Read(path)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.Contains(t, err.Error(), path, "the error names the file")
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, tc.schema, errorsIs(err, report.ErrSchema))
		})
	}
}

func TestReadMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := report.Read(dir)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), filepath.Join(dir, report.JSONFile))
}

func TestReadIgnoresUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"schema": 1, "seed": 9, "added_later": true}`), 0o644))
	r, err := report.Read(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(9), r.Seed)
}

// TestReadAcceptsPreviousSchema: a report.json of schema 1 (testdata, a
// three-run soak written before schema 2) reads, with the fields added
// since left zero, and merges with a schema 2 report of the same soak.
func TestReadAcceptsPreviousSchema(t *testing.T) {
	old, err := report.Read("testdata/schema1")
	require.NoError(t, err)
	assert.Equal(t, 1, old.Schema)
	assert.Equal(t, uint64(5), old.Seed)
	assert.Len(t, old.Runs, 3)
	assert.Zero(t, old.Build)
	assert.Zero(t, old.ShardCount)
	assert.Empty(t, old.Scenarios[0].LatencyHDR)
}
