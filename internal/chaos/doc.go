// Package chaos holds the seeded randomized fault test: the real controller, scaler, ADO client,
// checks handler and callbacker, and SQLite store run, as two replicas electing a leader through
// the store's lease, against the ADO simulator and the fake provider, under
// testing/synctest's virtual clock, with jobs arriving and finishing, agents registering and
// faults of every kind injected (internal/faultinject). After every cycle the test checks
// DESIGN.md's invariants; at the end it turns the faults off, lets the pools settle and checks
// that ADO, the provider and the store agree with nothing left behind.
//
//	go test ./internal/chaos/ -chaos.seed=N -chaos.cycles=M -chaos.faults=moderate -chaos.pause=process
//
// A failure prints the seed to rerun it with. The package has no code of its own: it is the test.
package chaos
