//go:build amd64 || arm64

package gid

// getg returns the address of the calling goroutine's g (gid_$GOARCH.s).
func getg() uintptr

func self() uintptr { return getg() }
