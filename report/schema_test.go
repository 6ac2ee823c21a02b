package report_test

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/report"
)

var update = flag.Bool("update", false, "rewrite schema/report.schema.json from the Report type")

// schemaFile is the published JSON Schema of report.json.
const schemaFile = "schema/report.schema.json"

// TestSchemaFileIsCurrent: the published JSON Schema (draft 2020-12) is the
// one the Report type implies: every field, its JSON type, and which are
// required (those without omitempty). Rerun with -update after changing
// the type: go test ./report -run TestSchemaFileIsCurrent -update.
func TestSchemaFileIsCurrent(t *testing.T) {
	s := schemaOf(reflect.TypeFor[report.Report]())
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = "https://github.com/nimsync/nimsync/report/schema/report.schema.json"
	s["title"] = "nimsync soak report (report.json)"
	s["description"] = "Written by nimsync soak and nimsync report merge (package report). " +
		"Readers accept this schema version and the previous one (1)."
	props := s["properties"].(map[string]any)
	props["schema"] = map[string]any{"type": "integer", "enum": []int{1, report.SchemaVersion}}
	want, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	want = append(want, '\n')
	if *update {
		require.NoError(t, os.MkdirAll("schema", 0o755))
		require.NoError(t, os.WriteFile(schemaFile, want, 0o644))
	}
	got, err := os.ReadFile(schemaFile)
	require.NoError(t, err, "run: go test ./report -run TestSchemaFileIsCurrent -update")
	assert.JSONEq(t, string(want), string(got), "the published schema is stale: go test ./report -run TestSchemaFileIsCurrent -update")
}

// TestWrittenReportFollowsSchema: a report Write wrote has the fields the
// schema requires, and none it does not know.
func TestWrittenReportFollowsSchema(t *testing.T) {
	raw, err := os.ReadFile(schemaFile)
	require.NoError(t, err)
	var sch map[string]any
	require.NoError(t, json.Unmarshal(raw, &sch))
	dir := t.TempDir()
	r := synth(3, "0/1", true)
	r.Build = report.Build{Version: "(devel)", Commit: "abc"}
	require.NoError(t, report.Write(dir, r))
	js, err := os.ReadFile(dir + "/" + report.JSONFile)
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(js)))
	dec.UseNumber() // seeds are uint64: beyond a float64's integers
	var doc any
	require.NoError(t, dec.Decode(&doc))
	checkAgainst(t, "report", sch, doc)
}

// checkAgainst checks doc against the subset of JSON Schema schemaOf
// writes: type, properties, required, additionalProperties, items.
func checkAgainst(t *testing.T, at string, sch map[string]any, doc any) {
	t.Helper()
	types := map[string]func(any) bool{
		"object":  func(v any) bool { _, ok := v.(map[string]any); return ok },
		"array":   func(v any) bool { _, ok := v.([]any); return ok || v == nil },
		"string":  func(v any) bool { _, ok := v.(string); return ok },
		"integer": func(v any) bool { n, ok := v.(json.Number); return ok && !strings.ContainsAny(string(n), ".eE") },
		"number":  func(v any) bool { _, ok := v.(json.Number); return ok },
		"boolean": func(v any) bool { _, ok := v.(bool); return ok },
	}
	switch ty := sch["type"].(type) {
	case string:
		require.True(t, types[ty](doc), "%s: want %s, got %T %v", at, ty, doc, doc)
	case []any: // ["array", "null"]
		require.True(t, doc == nil || types[ty[0].(string)](doc), "%s: want %v, got %T", at, ty, doc)
	}
	switch v := doc.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		for _, req := range sch["required"].([]any) {
			assert.Contains(t, v, req, "%s: required", at)
		}
		for k, x := range v {
			if props != nil {
				sub, ok := props[k].(map[string]any)
				require.True(t, ok, "%s.%s: not in the schema", at, k)
				checkAgainst(t, at+"."+k, sub, x)
			} else if ap, ok := sch["additionalProperties"].(map[string]any); ok {
				checkAgainst(t, at+"."+k, ap, x)
			}
		}
	case []any:
		for _, x := range v {
			checkAgainst(t, at+"[]", sch["items"].(map[string]any), x)
		}
	}
}

// schemaOf is the JSON Schema of values of type ty as encoding/json writes
// them.
func schemaOf(ty reflect.Type) map[string]any {
	if ty == reflect.TypeFor[time.Time]() {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch ty.Kind() {
	case reflect.Pointer:
		return schemaOf(ty.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": []string{"array", "null"}, "items": schemaOf(ty.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(ty.Elem())}
	case reflect.Struct:
		props, required := map[string]any{}, []string{}
		for f := range ty.Fields() {
			tag, ok := f.Tag.Lookup("json")
			if !ok || tag == "-" || !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			props[name] = schemaOf(f.Type)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
	}
	panic("schemaOf: unsupported kind " + ty.Kind().String())
}
