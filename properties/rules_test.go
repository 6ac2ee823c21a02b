package properties_test

// TestRulesTable keeps RULES.md honest: what it names must exist, every
// planted bug must be named by a rule, and no rule may go unchecked.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rule is one row of RULES.md.
type rule struct {
	id, promise     string
	checks, planted []string // "—" becomes empty
}

var ruleID = regexp.MustCompile(`^[A-Z]+(-[A-Z0-9]+)+$`)

// readRules parses the tables of RULES.md: the rows whose first cell is a
// rule id.
func readRules(t *testing.T) []rule {
	b, err := os.ReadFile("RULES.md")
	require.NoError(t, err)
	var rules []rule
	for n, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !ruleID.MatchString(cells[0]) {
			continue
		}
		require.Len(t, cells, 4, "RULES.md:%d: a rule row has four cells: rule | promise | checked by | planted bug", n+1)
		list := func(s string) []string {
			if s == "—" {
				return nil
			}
			return strings.Split(s, "; ")
		}
		rules = append(rules, rule{id: cells[0], promise: cells[1], checks: list(cells[2]), planted: list(cells[3])})
	}
	return rules
}

// sources concatenates the Go files of dir that match suffix.
func sources(t *testing.T, dir, suffix string) string {
	files, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	require.NoError(t, err)
	var b strings.Builder
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		b.Write(src)
	}
	return b.String()
}

var scenarioCheck = regexp.MustCompile(`^([a-z0-9-]+): "([^"]+)"$`)

func TestRulesTable(t *testing.T) {
	rules := readRules(t)
	require.NotEmpty(t, rules, "RULES.md has no rule rows")
	props := sources(t, ".", "_test.go")
	chaosTests := sources(t, "../chaos", "_test.go")
	scenarioSrc := sources(t, "../scenarios", ".go")
	bugs := map[string]bool{} // planted bug → named by a rule
	for _, fp := range failpoints.All() {
		if fp.Kind == failpoints.Bug {
			bugs[fp.Name] = false
		}
	}
	seen := map[string]bool{}
	var gaps []string
	for _, r := range rules {
		assert.False(t, seen[r.id], "rule %s is listed twice", r.id)
		seen[r.id] = true
		assert.NotEmpty(t, r.promise, "rule %s says nothing", r.id)
		if len(r.checks) == 0 && len(r.planted) == 0 {
			t.Errorf("rule %s has neither a check nor a planted bug: %s", r.id, r.promise)
		}
		for _, c := range r.checks {
			switch m := scenarioCheck.FindStringSubmatch(c); {
			case strings.HasPrefix(c, "chaos.Test"):
				if !strings.Contains(chaosTests, "func "+strings.TrimPrefix(c, "chaos.")+"(") {
					t.Errorf("rule %s: no test %s in package chaos", r.id, c)
				}
			case strings.HasPrefix(c, "Test"):
				if !strings.Contains(props, "func "+c+"(") {
					t.Errorf("rule %s: no property %s in this package", r.id, c)
				}
			case m != nil:
				if m[1] != "scenarios" {
					_, ok := scenarios.Lookup(m[1])
					assert.True(t, ok, "rule %s: no scenario %q", r.id, m[1])
				}
				if !strings.Contains(scenarioSrc, `.add("`+m[2]+`",`) {
					t.Errorf("rule %s: no scenario invariant %q", r.id, m[2])
				}
			default:
				t.Errorf("rule %s: %q is neither a property (TestX), a chaos test (chaos.TestX) nor a scenario invariant (name: \"invariant\")", r.id, c)
			}
		}
		for _, b := range r.planted {
			if _, ok := bugs[b]; assert.True(t, ok, "rule %s: %q is not a planted bug of core (a bug/ failpoint)", r.id, b) {
				bugs[b] = true
			}
		}
		if len(r.planted) == 0 {
			gaps = append(gaps, r.id)
		}
	}
	for b, named := range bugs {
		assert.True(t, named, "planted bug %s is named by no rule of RULES.md", b)
	}
	if len(gaps) == 0 {
		t.Logf("%d rules, each with a planted bug", len(rules))
		return
	}
	t.Logf("%d rules; %d without a planted bug yet: %s", len(rules), len(gaps), strings.Join(gaps, ", "))
}
