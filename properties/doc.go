// Package properties holds nimsync's property suite: gopter properties of
// the channels, scopes and groups of package core — linearizability against
// a bounded FIFO model (checked with porcupine), exactly-once delivery and
// order, leak-freedom, cleanup under cancellation — run in a plain build by
// go test and under seeded fault plans by scripts/chaos-test.
//
// Every property logs its seed and the command that reruns it. The package
// has no API; its tests are the suite.
package properties
