//go:build !chaos

package core

// plantedBugs is false in a build without the chaos tag: the planted bugs
// (BugPoint markers) are not compiled in, and every `if plantedBugs && …`
// and `if planted(…)` branch is dead code the compiler removes.
const plantedBugs = false

// planted reports whether the planted bug name is switched on: never, in a
// build without the chaos tag. It inlines to the constant false.
func planted(string) bool { return false }
