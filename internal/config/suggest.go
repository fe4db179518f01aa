package config

import (
	"strings"
)

// suggest names the known field closest to an unknown key ("did you mean max?"), or lists the
// known fields when none is close.
func suggest(key string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(key), strings.ToLower(k))
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD >= 0 && bestD <= 2 && bestD < len(key) {
		return "did you mean " + best + "?"
	}
	if len(known) == 0 {
		return "this section takes no fields"
	}
	return "known fields: " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance between a and b, over bytes (keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
