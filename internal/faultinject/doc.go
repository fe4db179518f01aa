// Package faultinject injects the faults adofleet must survive, at the rates a test or a soak run
// asks for: ADO answering 429 with Retry-After, 500 and 503, hanging past the client's timeout,
// answering slowly, or losing a response after the request took effect; the provider failing a
// launch (before or after it started anything), launching late, losing instances as a spot
// interruption does, or failing a terminate; the store failing a write before or after it took
// effect. It never corrupts data: every fault is an error, a delay or a loss that a real system
// produces.
//
// An Injector is seeded: for one seed and the same sequence of calls it injects the same faults.
// ADO, provider and store faults draw from separate streams, so turning one kind on or off does not
// move the others. Everything is safe for concurrent use (the draws are then in the order the calls
// arrive). Counts reports what was injected, for a test's report.
package faultinject
