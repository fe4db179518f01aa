package kubernetes

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/adofleet/adofleet/internal/provider"
)

const (
	maxNameLen = 63 // a Pod's name becomes its hostname: keep it a DNS label
	hashLen    = 10 // hex characters of a disambiguating hash
)

// LabelValue returns s as a valid label value: s itself when it is one, else s with every
// character outside [A-Za-z0-9._-] replaced by '-', cut, trimmed to start and end alphanumeric,
// and suffixed with a hash of s, so two names that sanitise alike still differ.
func LabelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	base := b.String()
	if maxBase := validation.LabelValueMaxLength - 1 - hashLen; len(base) > maxBase {
		base = base[:maxBase]
	}
	base = strings.TrimFunc(base, notAlnum)
	suffix := hash(s)
	if base == "" {
		return "h" + suffix
	}
	return base + "-" + suffix
}

// PodName returns the Pod name of agent in pool: the agent's name made a DNS label (lowercase
// letters, digits, single hyphens) and cut so that a hyphen and a hash of controller, pool and
// agent fit in 63 characters. Deterministic, so a repeated launch finds the Pod of the first.
func (p *Provider) PodName(pool, agent string) string {
	base := provider.DNSLabel(agent, maxNameLen-1-hashLen)
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "agent-" + base // a DNS label must not start with a digit for some tools
		base = strings.TrimSuffix(base, "-")
		if len(base) > maxNameLen-1-hashLen {
			base = strings.Trim(base[:maxNameLen-1-hashLen], "-")
		}
	}
	return base + "-" + hash(p.opts.Controller+"\x00"+pool+"\x00"+agent)
}

// poolSelector selects the Pods of pool started by this controller.
func (p *Provider) poolSelector(pool string) string {
	return labels.Set{LabelPool: LabelValue(pool), LabelController: LabelValue(p.opts.Controller)}.String()
}

// launchSelector selects the Pods of one launch of pool.
func (p *Provider) launchSelector(pool, token string) string {
	return labels.Set{LabelPool: LabelValue(pool), LabelController: LabelValue(p.opts.Controller), LabelLaunch: LabelValue(token)}.String()
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:hashLen]
}

func notAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}
