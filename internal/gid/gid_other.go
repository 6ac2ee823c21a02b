//go:build !amd64 && !arm64

package gid

func self() uintptr { return uintptr(ID()) }
