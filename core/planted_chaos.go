//go:build chaos

package core

import "github.com/pingcap/failpoint"

// plantedBugs is true in a chaos build (-tags chaos with failpoint-toolexec):
// the planted bugs' markers are compiled in, for the harness's self-test.
const plantedBugs = true

// planted reports whether the planted bug name (a BugPoint marker) is
// switched on. Only the harness's self-test switches one on. A site whose
// bug needs a condition tests the condition first (`plantedBugs && cond &&
// planted(…)`), so that the marker fires only where the bug would act and
// a self-test catch can be checked against the marker's hits.
func planted(name string) (bug bool) {
	failpoint.Inject(name, func() {
		failpoint.InjectCall(name, &bug)
	})
	return bug
}
