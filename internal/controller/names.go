package controller

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// maxSlug keeps generated agent names well under ADO's agent name limit.
const maxSlug = 40

// Slug turns a pool name into the lowercase, dash-separated prefix of its agents' names.
func Slug(pool string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(pool) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > maxSlug {
		s = strings.TrimRight(s[:maxSlug], "-")
	}
	if s == "" {
		s = "pool"
	}
	return s
}

// DefaultAgentName is "<pool-slug>-<8 random hex>".
func DefaultAgentName(pool string) string {
	return Slug(pool) + "-" + randomHex(4)
}

// PlaceholderName is the name of the pool's offline placeholder agent.
func PlaceholderName(pool string) string {
	return Slug(pool) + "-placeholder"
}

// randomHex returns 2n hex digits from crypto/rand (which never fails on supported platforms).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
