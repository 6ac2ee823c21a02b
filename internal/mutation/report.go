package mutation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is what the harness did with a mutant.
type Status string

// The statuses. A mutant that timed out counts as killed (the harness did
// not pass it) but is listed apart: a hang the harness itself did not
// report within the mutant's budget. A mutant that does not compile counts
// in neither.
const (
	Killed      Status = "killed"
	Survived    Status = "survived"
	TimedOut    Status = "timed out"
	NotCompiled Status = "not compiled"
	// Equivalent is a mutant the equivalents list explains and the lane
	// did not run (a listed mutant that is run keeps its real status).
	Equivalent Status = "equivalent"
)

// Result is one mutant's outcome.
type Result struct {
	Mutant
	Status Status `json:"status"`
	// Stage is where it ended: "build", "properties" or "soak" (for a
	// survivor, the last stage it passed).
	Stage string `json:"stage,omitempty"`
	// Reason is what killed it (the failing tests, the soak's failures,
	// the compiler's error), or why it is equivalent.
	Reason  string  `json:"reason,omitempty"`
	Seconds float64 `json:"seconds"`
	Known   string  `json:"equivalent_reason,omitempty"` // the equivalents list's reason, if listed
	Log     string  `json:"log,omitempty"`               // the full output, kept in the work directory
}

// Counts tallies results. Killed includes TimedOut.
type Counts struct {
	Mutants     int `json:"mutants"`
	Killed      int `json:"killed"`
	TimedOut    int `json:"timed_out"`
	Survived    int `json:"survived"`
	Equivalent  int `json:"equivalent"`
	NotCompiled int `json:"not_compiled"`
}

// Score is killed / (killed + survived), timed out counted as killed and
// equivalents and mutants that did not compile left out; -1 if no mutant
// was killed or survived.
func (c Counts) Score() float64 {
	if c.Killed+c.Survived == 0 {
		return -1
	}
	return float64(c.Killed) / float64(c.Killed+c.Survived)
}

// Tally counts results. A listed equivalent that was run and survived
// counts as Equivalent, not Survived; one that was killed counts as
// killed (the list is wrong about it, and the report says so).
func Tally(results []Result) Counts {
	var c Counts
	for _, r := range results {
		c.Mutants++
		switch r.Status {
		case Killed:
			c.Killed++
		case TimedOut:
			c.Killed++
			c.TimedOut++
		case Survived:
			if r.Known != "" {
				c.Equivalent++
			} else {
				c.Survived++
			}
		case Equivalent:
			c.Equivalent++
		case NotCompiled:
			c.NotCompiled++
		}
	}
	return c
}

// Report is a lane's run: how it was measured, and every mutant's result.
type Report struct {
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Command  string    `json:"command"`
	Revision string    `json:"revision"` // the commit measured (+dirty for a working tree with changes)
	Machine  string    `json:"machine"`  // OS/arch, CPUs, Go version
	// Settings are the lane's parameters: budget, seeds, soak, filters.
	Settings map[string]string `json:"settings"`
	// Candidates is how many mutants the files held for the operators
	// before the line filter, sampling and sharding.
	Candidates  int      `json:"candidates"`
	Interrupted bool     `json:"interrupted,omitempty"`
	Notes       []string `json:"notes,omitempty"`
	Counts      Counts   `json:"counts"`
	Score       float64  `json:"score"` // Counts.Score
	Results     []Result `json:"results"`
}

// Finish sorts the results by file and position and fills in the counts
// and the score.
func (r *Report) Finish() {
	slices.SortFunc(r.Results, func(a, b Result) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return strings.Compare(string(a.Op), string(b.Op))
	})
	r.Counts = Tally(r.Results)
	r.Score = r.Counts.Score()
}

// JSON is the report as indented JSON.
func (r *Report) JSON() []byte {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("mutation: report: %v", err)) // plain data: cannot fail
	}
	return append(b, '\n')
}

// ScoreText prints a score as a percentage, or "n/a".
func ScoreText(s float64) string {
	if s < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*s)
}

// Markdown is the report for people: the counts and score, how it was
// measured, then the survivors (file:line, operator, change, line), the
// equivalents with their reasons, the mutants that timed out or did not
// compile, and the killed ones with what killed them.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	c := r.Counts
	fmt.Fprintf(&b, "# Mutation score of core\n\n")
	fmt.Fprintf(&b, "**Score %s**: %d killed (%d of them timed out) of %d killed or survived; %d equivalent, %d did not compile; %d mutants in all.\n\n",
		ScoreText(r.Score), c.Killed, c.TimedOut, c.Killed+c.Survived, c.Equivalent, c.NotCompiled, c.Mutants)
	if r.Interrupted {
		b.WriteString("The lane was interrupted: the report covers the mutants finished.\n\n")
	}
	fmt.Fprintf(&b, "- started %s, %s of wall time\n", r.Started.UTC().Format(time.RFC3339), time.Duration(r.Seconds*float64(time.Second)).Round(time.Second))
	fmt.Fprintf(&b, "- revision %s; machine %s\n", r.Revision, r.Machine)
	fmt.Fprintf(&b, "- %d candidate mutants in the files for the operators; %d run or listed\n", r.Candidates, c.Mutants)
	keys := make([]string, 0, len(r.Settings))
	for k := range r.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- %s: %s\n", k, r.Settings[k])
	}
	fmt.Fprintf(&b, "- command: `%s`\n", r.Command)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- note: %s\n", n)
	}

	section := func(title string, keep func(Result) bool, reason string) {
		var rows []Result
		for _, x := range r.Results {
			if keep(x) {
				rows = append(rows, x)
			}
		}
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n| where | function | operator | change | line | %s |\n| --- | --- | --- | --- | --- | --- |\n", title, len(rows), reason)
		for _, x := range rows {
			why := x.Reason
			if x.Known != "" {
				why = x.Known
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", x.Where(), cell(x.Func), x.Op, cell(x.Change()), cell("`"+x.LineText+"`"), cell(why))
		}
	}
	section("Survivors", func(x Result) bool { return x.Status == Survived && x.Known == "" }, "what it passed")
	section("Equivalent", func(x Result) bool { return x.Status == Equivalent || (x.Status == Survived && x.Known != "") }, "why")
	section("Listed as equivalent but killed", func(x Result) bool { return (x.Status == Killed || x.Status == TimedOut) && x.Known != "" }, "what killed it")
	section("Timed out", func(x Result) bool { return x.Status == TimedOut }, "where it hung")
	section("Did not compile", func(x Result) bool { return x.Status == NotCompiled }, "error")
	section("Killed", func(x Result) bool { return x.Status == Killed }, "what killed it")
	if c.Survived > 0 {
		b.WriteString("\nA survivor is a gap (a property that would kill it is missing) or equivalent (no program can tell it from core). " +
			"List an equivalent in internal/mutation/equivalents.txt: its key, a tab, and why.\n\nKeys of the survivors:\n\n```\n")
		for _, x := range r.Results {
			if x.Status == Survived && x.Known == "" {
				b.WriteString(x.Key + "\n")
			}
		}
		b.WriteString("```\n")
	}
	return b.Bytes()
}

// cell makes s fit in a Markdown table cell: one line, pipes escaped,
// at most 160 characters.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
