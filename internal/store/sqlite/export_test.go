package sqlite

import "context"

// OpenAtVersion opens path with migrations applied only up to version, to build the old
// databases the upgrade tests start from.
func OpenAtVersion(ctx context.Context, path string, opts Options, version int) (*Store, error) {
	return open(ctx, path, opts, version)
}

// LatestVersion is the number of the newest embedded migration.
func LatestVersion() int { return len(migrations) }
