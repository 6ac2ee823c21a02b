//go:build !unix

package core

// processCPU cannot tell the process's CPU time here; the monitor then
// relies on how much its ticks stretch.
func processCPU() int64 { return -1 }
