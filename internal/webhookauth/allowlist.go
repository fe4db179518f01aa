package webhookauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParsePrefixes parses an allow-list or trusted-proxy list as written in the config: CIDRs
// (10.0.0.0/8, 2001:db8::/32) or single addresses (203.0.113.7, meaning /32 or /128). field
// names the list in errors ("web.allowFrom"), each error naming the entry by its index. A CIDR
// with host bits set (10.1.2.3/8) is refused rather than silently widened or narrowed: it is
// usually a typo for another network.
func ParsePrefixes(field string, values []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(values))
	var errs []error
	for i, v := range values {
		p, err := ParsePrefix(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", field, i, err))
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// ParsePrefix parses one entry of such a list; its error says what was wanted and quotes v.
func ParsePrefix(v string) (netip.Prefix, error) {
	s := strings.TrimSpace(v)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("must be a CIDR such as 10.0.0.0/8 or an IP address such as 203.0.113.7; got %q", v)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("must be a CIDR such as 10.0.0.0/8 or an IP address such as 203.0.113.7; got %q", v)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set past its /%d prefix; write %s (the network) or %s/%d (one address)",
			v, p.Bits(), m, p.Addr(), p.Addr().BitLen())
	}
	if p.Addr().Is4In6() {
		// ::ffff:10.0.0.0/104 written for IPv4 clients: compare as the IPv4 network it means (a
		// masked prefix with an IPv4-mapped address has at least the 96 bits of the mapping).
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), nil
	}
	return p, nil
}

// AllowList admits requests by the address of their client. The zero value and nil admit every
// address.
type AllowList struct {
	allow   []netip.Prefix // empty: every address
	proxies []netip.Prefix // peers whose X-Forwarded-For is believed
}

// NewAllowList admits clients in allow (none: every client). trustedProxies are the load
// balancers and reverse proxies in front of adofleet: a request whose peer is one of them is
// judged by the X-Forwarded-For address they add, never by a header from anyone else (which
// anyone could forge).
func NewAllowList(allow, trustedProxies []netip.Prefix) *AllowList {
	return &AllowList{allow: allow, proxies: trustedProxies}
}

// Restricts reports whether l refuses any address.
func (l *AllowList) Restricts() bool { return l != nil && len(l.allow) > 0 }

// Admits reports whether r's client may call the endpoint, and the address it judged (invalid
// when it could not tell; such a request is refused).
func (l *AllowList) Admits(r *http.Request) (bool, netip.Addr) {
	if !l.Restricts() {
		return true, netip.Addr{}
	}
	client, ok := l.Client(r)
	if !ok {
		return false, netip.Addr{}
	}
	return contains(l.allow, client), client
}

// Client is r's client address: the peer, or, when the peer is a trusted proxy, the nearest
// address in X-Forwarded-For that is not itself a trusted proxy (proxies append to the header, so
// it is read from the right; entries to the left of the first untrusted one may be forged). ok is
// false when the peer or a needed X-Forwarded-For entry does not parse.
func (l *AllowList) Client(r *http.Request) (addr netip.Addr, ok bool) {
	peer, ok := parseHostAddr(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if l == nil || !contains(l.proxies, peer) {
		return peer, true
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHostAddr(strings.TrimSpace(hops[i]))
		if !ok {
			return netip.Addr{}, false
		}
		client = a
		if !contains(l.proxies, a) {
			break
		}
	}
	return client, true
}

// parseHostAddr parses "ip", "ip:port" or "[ipv6]:port", dropping any IPv6 zone and mapping
// IPv4-mapped IPv6 to IPv4.
func parseHostAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
