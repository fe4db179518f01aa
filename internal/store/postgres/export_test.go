package postgres

// OpenAt opens the store with only the first upTo migrations applied, to test upgrades.
var OpenAt = open

// Migrations is how many migrations this binary knows.
func Migrations() int { return len(migrations) }
