// Package fleetops reads one pool the way the controller does and turns that reading into the
// operator's views of it: what `adofleet gc` would remove (and removing it) and what
// `adofleet status` shows (rows, counts, flags).
//
// It shares the controller's rules: an agent is adofleet's when a store record names it or one of
// the controller's tagged instances hosts it (never by name); an agent is busy when it has an
// assigned request or an unfinished request reserves it; and an agent is removed by the drain
// protocol (disable, re-read, and only then terminate and delete). cmd/adofleet keeps the
// commands, their flags, the leader lease and the printing.
package fleetops
