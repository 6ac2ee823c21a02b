//go:build !unix

package main

import "os/exec"

// ownGroup: without process groups, cancellation kills the command alone.
func ownGroup(*exec.Cmd) {}

// lockDir: no lock without flock; run one lane per work directory.
func lockDir(string) (func(), error) { return func() {}, nil }
