package scaler

import "time"

// Plan decides what to do for one pool. (Placeholder signature; the scaler owner replaces the body.)
func Plan(s Snapshot, p Policy, now time.Time) Actions { return Actions{} }
