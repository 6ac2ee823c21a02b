package scenarios_test

import (
	"strings"
	"testing"

	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// want is the table's order, as `nimsync list` prints it.
var want = []string{
	"spsc-stream", "mpsc-fanin", "spmc-fanout", "mpmc-contention", "pipeline", "group-100k",
	"nested-groups", "channels-10k", "channels-200", "cancel-storm", "mixed",
}

func TestTableOrderAndNames(t *testing.T) {
	require.Equal(t, want, scenarios.Names())
	for _, s := range scenarios.All {
		assert.NotEmpty(t, s.Summary, s.Name)
		assert.NotNil(t, s.Run, s.Name)
	}
}

func TestLookup(t *testing.T) {
	s, ok := scenarios.Lookup("group-100k")
	require.True(t, ok)
	assert.Equal(t, "group-100k", s.Name)
	_, ok = scenarios.Lookup("group-100K")
	assert.False(t, ok, "names are case-sensitive")
	_, ok = scenarios.Lookup("")
	assert.False(t, ok)
}

func TestParse(t *testing.T) {
	all, err := scenarios.Parse("  ")
	require.NoError(t, err)
	assert.Len(t, all, len(want))

	some, err := scenarios.Parse("mixed, spsc-stream,mixed")
	require.NoError(t, err)
	var names []string
	for _, s := range some {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"mixed", "spsc-stream", "mixed"}, names, "in the order given, repeats kept")

	_, err = scenarios.Parse("spsc-stream,no-such")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"no-such"`)
	for _, n := range want {
		assert.Contains(t, err.Error(), n, "the error lists the known names")
	}
}

func TestViolationError(t *testing.T) {
	v := &scenarios.Violation{Scenario: "spsc-stream", Invariant: "no loss", Detail: "value 7 of sender 0 never received"}
	assert.Equal(t, "spsc-stream: no loss violated: value 7 of sender 0 never received", v.Error())
	assert.True(t, strings.HasPrefix(v.Error(), v.Scenario))
}
