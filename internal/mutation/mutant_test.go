package mutation_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nimsync/nimsync/internal/mutation"
	"github.com/stretchr/testify/require"
)

// every holds one site for each operator.
const every = `package p

func f(a, b int, ok bool, s []int) int {
	if a < b && !ok {
		a++
	}
	a += b
	g(a)
	for _, x := range s {
		if x == 0 {
			break
		}
	}
	ok = true
	return -a * (b &^ 1)
}
`

// mutatedLines applies each mutant of src and returns "OPERATOR: the
// mutated line" for each, in order.
func mutatedLines(t *testing.T, src string, ops []mutation.Operator) []string {
	t.Helper()
	ms, err := mutation.Find("p/p.go", []byte(src), ops)
	require.NoError(t, err)
	var out []string
	for _, m := range ms {
		b, err := m.Apply([]byte(src))
		require.NoError(t, err, m.Key)
		_, err = parser.ParseFile(token.NewFileSet(), "p.go", b, 0)
		require.NoError(t, err, "%s does not parse", m.Key)
		lines := strings.Split(string(b), "\n")
		require.Len(t, lines, strings.Count(src, "\n")+1, "a mutant keeps every line where it was")
		out = append(out, string(m.Op)+": "+strings.TrimSpace(lines[m.Line-1]))
	}
	return out
}

func TestEachOperatorProducesItsSource(t *testing.T) {
	got := mutatedLines(t, every, mutation.Operators)
	want := []string{
		"CONDITIONALS_BOUNDARY: if a <= b && !ok {",
		"CONDITIONALS_NEGATION: if a >= b && !ok {",
		"INVERT_LOGICAL: if a < b || !ok {",
		"REMOVE_NOT: if a < b && ok {",
		"INCREMENT_DECREMENT: a--",
		"INVERT_ASSIGNMENTS: a -= b",
		"REMOVE_CALL: ",
		"CONDITIONALS_NEGATION: if x != 0 {",
		"INVERT_LOOPCTRL: continue",
		"BOOLEAN_LITERAL: ok = false",
		"INVERT_NEGATIVES: return +a * (b &^ 1)",
		"ARITHMETIC_BASE: return -a / (b &^ 1)",
		"INVERT_BITWISE: return -a * (b & 1)",
	}
	require.Equal(t, want, got)
}

func TestDefaultOperatorsOnly(t *testing.T) {
	for _, line := range mutatedLines(t, every, mutation.DefaultOperators) {
		op, _, _ := strings.Cut(line, ":")
		require.Contains(t, mutation.DefaultOperators, mutation.Operator(op))
	}
	ops, err := mutation.ParseOperators("remove_call, CONDITIONALS_BOUNDARY,REMOVE_CALL")
	require.NoError(t, err)
	require.Equal(t, []mutation.Operator{mutation.ConditionalsBoundary, mutation.RemoveCall}, ops)
	ops, err = mutation.ParseOperators("all")
	require.NoError(t, err)
	require.Len(t, ops, len(mutation.Operators))
	_, err = mutation.ParseOperators("SWAP_EVERYTHING")
	require.Error(t, err)
}

// excludedSrc has a site of every kind that is never mutated, beside
// sites that are.
const excludedSrc = `package p

func f(a int, c bool) {
	failpoint.Inject("x", func() {
		a++
		wake()
	})
	failpoint.InjectCall("y", a+1)
	if planted("bug/a") {
		a--
		wake()
	}
	if a > 0 && planted("bug/b") {
		a--
	} else {
		a++
	}
	if c && !planted("bug/c") {
		wake()
	}
	if first || planted("bug/d") {
		a = 1
	}
	if plantedBugs && c && planted("bug/e") {
		a--
	}
	if !c && !(plantedBugs && planted("bug/f")) {
		wake()
	}
	if stepMarkers {
		awaitStep(func() bool { return a > 0 && !c })
	}
	mu.Lock()
	mu.Unlock()
	panic("no")
}

type padded struct {
	_ [cacheLine - 8]byte
}
`

func TestExcludedRegionsAreSkipped(t *testing.T) {
	got := mutatedLines(t, excludedSrc, mutation.Operators)
	// Nothing in a failpoint call, a planted-only if (but its else
	// branch), an if stepMarkers, an expression of planted-bug switches alone (with its !),
	// the padding, Lock, Unlock or panic. The
	// && and || beside a planted call are mutated: planted is false, and
	// they change the plain path (`c || true`, `first && false`).
	want := []string{
		"INCREMENT_DECREMENT: a--",
		`INVERT_LOGICAL: if c || !planted("bug/c") {`,
		"REMOVE_CALL: ",
		`INVERT_LOGICAL: if first && planted("bug/d") {`,
		`REMOVE_NOT: if c && !(plantedBugs && planted("bug/f")) {`,
		`INVERT_LOGICAL: if !c || !(plantedBugs && planted("bug/f")) {`,
		"REMOVE_CALL: ",
	}
	require.Equal(t, want, got)
}

func TestRemovedCallKeepsLines(t *testing.T) {
	src := "package p\n\nfunc f() {\n\tsubmit(task{\n\t\tfn: nil,\n\t})\n\tdone()\n}\n"
	ms, err := mutation.Find("p.go", []byte(src), []mutation.Operator{mutation.RemoveCall})
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, "submit(task{", ms[0].From)
	require.Equal(t, "remove submit(task{", ms[0].Change())
	b, err := ms[0].Apply([]byte(src))
	require.NoError(t, err)
	require.Equal(t, "package p\n\nfunc f() {\n\t            \n          \n   \n\tdone()\n}\n", string(b))
	_, err = ms[1].Apply([]byte(strings.Replace(src, "done()", "wait()", 1)))
	require.Error(t, err, "a source that changed since Find is refused")
}

func TestKeysNameMutantsWithoutLineNumbers(t *testing.T) {
	src := "package p\n\nfunc (q *queue[T]) f(a int) int {\n\tx := a < 1\n\ty := a < 1\n\t_, _ = x, y\n\treturn a\n}\n"
	ms, err := mutation.Find("core/q.go", []byte(src), []mutation.Operator{mutation.ConditionalsBoundary})
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, "queue.f", ms[0].Func)
	require.Equal(t, "core/q.go|queue.f|CONDITIONALS_BOUNDARY|<→<=|x := a < 1#0", ms[0].Key)
	require.Equal(t, "core/q.go|queue.f|CONDITIONALS_BOUNDARY|<→<=|y := a < 1#0", ms[1].Key)
	moved, err := mutation.Find("core/q.go", []byte(strings.Replace(src, "{\n", "{\n\n\n", 1)), []mutation.Operator{mutation.ConditionalsBoundary})
	require.NoError(t, err)
	require.Equal(t, ms[0].Key, moved[0].Key, "a key does not change when lines move")
	require.Equal(t, ms[0].Line+2, moved[0].Line)
}

// TestCoreMutantsApply finds the mutants of core's files as the lane does
// and applies each: every one must parse, keep the file's lines, and have
// a key of its own; none may touch a failpoint call.
func TestCoreMutantsApply(t *testing.T) {
	files, err := filepath.Glob("../../core/*.go")
	require.NoError(t, err)
	n := 0
	keys := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		ms, err := mutation.Find("core/"+filepath.Base(path), src, mutation.Operators)
		require.NoError(t, err)
		for _, m := range ms {
			n++
			require.False(t, keys[m.Key], "duplicate key %s", m.Key)
			keys[m.Key] = true
			require.NotContains(t, m.From, "failpoint.", m.Key)
			require.NotContains(t, m.From, "planted", m.Key)
			b, err := m.Apply(src)
			require.NoError(t, err)
			require.Equal(t, strings.Count(string(src), "\n"), strings.Count(string(b), "\n"), m.Key)
			_, err = parser.ParseFile(token.NewFileSet(), path, b, 0)
			require.NoError(t, err, "%s does not parse", m.Key)
		}
	}
	require.Greater(t, n, 100, "core has mutants")
}

func TestParseLines(t *testing.T) {
	rs, err := mutation.ParseLines("10-20, core/park.go:5, core/group.go:1-3")
	require.NoError(t, err)
	require.Equal(t, []mutation.LineRange{{Lo: 10, Hi: 20}, {File: "core/park.go", Lo: 5, Hi: 5}, {File: "core/group.go", Lo: 1, Hi: 3}}, rs)
	for _, bad := range []string{"", "x", "5-2", "0", "a:1-b"} {
		_, err := mutation.ParseLines(bad)
		require.Error(t, err, bad)
	}
}

func TestSelection(t *testing.T) {
	var ms []mutation.Mutant
	for i := range 40 {
		ms = append(ms, mutation.Mutant{File: []string{"core/a.go", "core/b.go"}[i%2], Line: i + 1, Offset: i * 10, Op: mutation.RemoveCall})
	}
	lines := mutation.Selection{Lines: []mutation.LineRange{{File: "core/a.go", Lo: 1, Hi: 10}, {Lo: 39, Hi: 40}}}.Apply(ms)
	var where []string
	for _, m := range lines {
		where = append(where, m.Where())
	}
	require.Equal(t, []string{"core/a.go:1", "core/a.go:3", "core/a.go:5", "core/a.go:7", "core/a.go:9", "core/a.go:39", "core/b.go:40"}, where)

	a := mutation.Selection{Max: 10, Seed: 7}.Apply(ms)
	b := mutation.Selection{Max: 10, Seed: 7}.Apply(slices.Clone(ms))
	c := mutation.Selection{Max: 10, Seed: 8}.Apply(ms)
	require.Len(t, a, 10)
	require.Equal(t, a, b, "the same seed gives the same sample")
	require.NotEqual(t, a, c)
	require.True(t, slices.IsSortedFunc(a, func(x, y mutation.Mutant) int {
		return strings.Compare(x.File, y.File)*1000 + x.Offset - y.Offset
	}), "a sample is in source order")

	var union []mutation.Mutant
	for i := range 3 {
		union = append(union, mutation.Selection{Max: 10, Seed: 7, Shard: i, Shards: 3}.Apply(ms)...)
	}
	require.ElementsMatch(t, a, union, "the shards of a sample cover it exactly")
}
