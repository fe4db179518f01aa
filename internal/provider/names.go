package provider

import "strings"

// DNSLabel returns s lowercased with every run of characters other than a-z and 0-9 made one
// hyphen, cut to max characters and trimmed of hyphens at either end: the readable part of a name
// that must be a DNS label (RFC 1123), such as a Pod's or a container group's. Callers add a
// hash of what the name stands for, so that two names that map alike still differ.
func DNSLabel(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	base := b.String()
	if len(base) > max {
		base = base[:max]
	}
	return strings.Trim(base, "-")
}
