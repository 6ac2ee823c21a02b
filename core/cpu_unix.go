//go:build unix

package core

import "syscall"

// processCPU returns the CPU time the process has used so far (user and
// system), or -1 if it cannot tell. The pool's monitor compares it with
// the wall time of a tick to tell blocked workers (idle CPUs) from busy ones.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
