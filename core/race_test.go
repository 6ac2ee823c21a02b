//go:build race

package core_test

// raceEnabled scales stress tests down under the race detector, which slows
// synchronization by an order of magnitude.
const raceEnabled = true
