package core

import "github.com/pingcap/failpoint"

// planted reports whether the planted bug name (a BugPoint marker) is
// switched on. Only the harness's self-test switches one on, in a chaos
// build; in a plain build failpoint.Inject is an empty function, planted
// inlines to false, and the bug's branch is dead code.
func planted(name string) (bug bool) {
	failpoint.Inject(name, func() {
		failpoint.InjectCall(name, &bug)
	})
	return bug
}
