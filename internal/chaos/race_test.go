//go:build race

package chaos

// The race detector makes the run about ten times slower: fewer steps keep it in seconds.
func init() { defaultSteps = 300 }
