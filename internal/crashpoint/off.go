//go:build !crashpoints

package crashpoint

// Hit does nothing: this build has no crashpoints.
func Hit(string) {}

// Enabled reports whether this build was made with -tags crashpoints.
const Enabled = false
