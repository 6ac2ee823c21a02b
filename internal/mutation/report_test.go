package mutation_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/internal/mutation"
	"github.com/stretchr/testify/require"
)

func result(file string, line int, st mutation.Status, known string) mutation.Result {
	return mutation.Result{
		Mutant: mutation.Mutant{File: file, Line: line, Offset: line * 100, Func: "f", Op: mutation.RemoveCall,
			From: "wake()", LineText: "wake() // pass it on", Key: file + "|f|REMOVE_CALL|wake()→|wake()#0"},
		Status: st, Known: known, Reason: "why " + string(st),
	}
}

func TestTallyAndScore(t *testing.T) {
	rs := []mutation.Result{
		result("core/a.go", 1, mutation.Killed, ""),
		result("core/a.go", 2, mutation.Killed, ""),
		result("core/a.go", 3, mutation.TimedOut, ""),
		result("core/a.go", 4, mutation.Survived, ""),
		result("core/a.go", 5, mutation.Survived, "only a hint"), // listed and run: equivalent
		result("core/a.go", 6, mutation.Equivalent, "padding"),   // listed, not run
		result("core/a.go", 7, mutation.NotCompiled, ""),
		result("core/a.go", 8, mutation.Killed, "wrongly listed"), // killed: the list is wrong
	}
	c := mutation.Tally(rs)
	require.Equal(t, mutation.Counts{Mutants: 8, Killed: 4, TimedOut: 1, Survived: 1, Equivalent: 2, NotCompiled: 1}, c)
	require.InDelta(t, 0.8, c.Score(), 1e-9, "killed (timed out included) / (killed + survived)")
	require.Equal(t, "80.0%", mutation.ScoreText(c.Score()))

	none := mutation.Tally([]mutation.Result{result("core/a.go", 1, mutation.NotCompiled, "")})
	require.Equal(t, -1.0, none.Score(), "no score without a killed or surviving mutant")
	require.Equal(t, "n/a", mutation.ScoreText(none.Score()))
}

func TestReportListsSurvivors(t *testing.T) {
	rep := &mutation.Report{
		Started: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), Seconds: 61, Revision: "abc", Machine: "linux/amd64, 2 CPUs",
		Command: "mutate --max-mutants 3", Candidates: 800, Settings: map[string]string{"chaos seed": "42"},
		Results: []mutation.Result{
			result("core/b.go", 9, mutation.Survived, ""),
			result("core/a.go", 4, mutation.Killed, ""),
			result("core/a.go", 2, mutation.TimedOut, ""),
			result("core/a.go", 7, mutation.Survived, "a hint only"),
		},
	}
	rep.Finish()
	require.Equal(t, []int{2, 4, 7, 9}, []int{rep.Results[0].Line, rep.Results[1].Line, rep.Results[2].Line, rep.Results[3].Line})
	require.InDelta(t, 2.0/3, rep.Score, 1e-9)

	md := string(rep.Markdown())
	require.Contains(t, md, "**Score 66.7%**: 2 killed (1 of them timed out) of 3 killed or survived; 1 equivalent")
	require.Contains(t, md, "## Survivors (1)")
	require.Contains(t, md, "| core/b.go:9 | f | REMOVE_CALL | remove wake() | `wake() // pass it on` |")
	require.Contains(t, md, "## Equivalent (1)")
	require.Contains(t, md, "a hint only")
	require.Contains(t, md, "## Timed out (1)")
	require.Contains(t, md, "core/b.go|f|REMOVE_CALL|wake()→|wake()#0\n", "the survivors' keys, to copy into the equivalents list")
	require.NotContains(t, md[strings.Index(md, "Keys of the survivors"):], "core/a.go|", "a listed equivalent is not a survivor")

	var back mutation.Report
	require.NoError(t, json.Unmarshal(rep.JSON(), &back))
	require.Equal(t, rep.Counts, back.Counts)
	require.Equal(t, rep.Results[3].Key, back.Results[3].Key)
}

func TestParseEquivalents(t *testing.T) {
	eq, err := mutation.ParseEquivalents("# comment\n\ncore/a.go|f|REMOVE_CALL|x()→|x()#0\tx only warms a cache\n")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"core/a.go|f|REMOVE_CALL|x()→|x()#0": "x only warms a cache"}, eq)
	for _, bad := range []string{"key without reason\n", "key\t\n", "k\twhy\nk\twhy again\n"} {
		_, err := mutation.ParseEquivalents(bad)
		require.Error(t, err, bad)
	}
	_, err = mutation.ParseEquivalents(mutation.DefaultEquivalents)
	require.NoError(t, err, "the built-in list parses")
}
