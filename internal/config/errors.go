package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a config file. Line and Column are 1-based; 0 means the problem is about
// the whole file (e.g. a required section that is missing).
type Error struct {
	File    string
	Line    int
	Column  int
	Field   string // path such as pools[0].max; "" for YAML syntax errors
	Message string
}

// Error formats the problem as "file:line: field: message", the way compilers do, so editors can
// jump to it.
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" { // "" for a Config built in code and checked with Validate
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in a config, sorted by position. Load and Parse return it (as
// *Errors) so that `adofleet validate` can print them all at once.
type Errors struct {
	List []Error
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

func (e *Errors) add(x Error) { e.List = append(e.List, x) }

// sort orders by line, then column, then field, keeping the order of discovery for ties.
func (e *Errors) sort() {
	slices.SortStableFunc(e.List, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), strings.Compare(a.Field, b.Field))
	})
}

// err returns e as an error, or nil when it holds nothing.
func (e *Errors) err() error {
	if len(e.List) == 0 {
		return nil
	}
	e.sort()
	return e
}
