package webhookauth_test

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/webhookauth"
)

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr []string // substrings of the error
	}{
		{"empty", nil, []string{}, nil},
		{"cidrs and addresses", []string{"10.0.0.0/8", "203.0.113.7", " 192.168.0.0/16 ", "2001:db8::/32", "::1"},
			[]string{"10.0.0.0/8", "203.0.113.7/32", "192.168.0.0/16", "2001:db8::/32", "::1/128"}, nil},
		{"ipv4-mapped network", []string{"::ffff:10.0.0.0/104", "::ffff:10.1.2.3"}, []string{"10.0.0.0/8", "10.1.2.3/32"}, nil},
		{"prefix too long", []string{"10.0.0.0/33"}, nil, []string{`web.allowFrom[0]: must be a CIDR`, `"10.0.0.0/33"`}},
		{"not an address", []string{"10.0.0.0/8", "corp-vpn"}, nil, []string{`web.allowFrom[1]: must be a CIDR`, `"corp-vpn"`}},
		{"host bits set", []string{"10.1.2.3/8"}, nil, []string{`web.allowFrom[0]: "10.1.2.3/8" has bits set past its /8 prefix; write 10.0.0.0/8 (the network) or 10.1.2.3/32 (one address)`}},
		{"empty entry", []string{""}, nil, []string{`web.allowFrom[0]: must be a CIDR`}},
		{"zone", []string{"fe80::1%eth0"}, nil, []string{`web.allowFrom[0]: must be a CIDR`}},
		{"every bad entry named", []string{"x", "10.0.0.0/8", "y"}, nil, []string{"web.allowFrom[0]", "web.allowFrom[2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := webhookauth.ParsePrefixes("web.allowFrom", tt.in)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ParsePrefixes(%q): got %v, want an error", tt.in, got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error: got %q, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrefixes(%q): %v", tt.in, err)
			}
			gotS := make([]string, len(got))
			for i, p := range got {
				gotS[i] = p.String()
			}
			if diff := cmp.Diff(tt.want, gotS); diff != "" {
				t.Errorf("ParsePrefixes (-want +got):\n%s", diff)
			}
		})
	}
}

func mustPrefixes(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	p, err := webhookauth.ParsePrefixes("test", s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClientAndAdmits(t *testing.T) {
	t.Parallel()
	proxies := mustPrefixes(t, "10.0.0.0/24", "fd00::/8")
	allow := mustPrefixes(t, "203.0.113.0/24", "2001:db8::/32")
	tests := []struct {
		name       string
		remote     string
		xff        []string
		wantClient string // "" when it cannot tell
		wantAdmit  bool
	}{
		{"direct, allowed", "203.0.113.9:5555", nil, "203.0.113.9", true},
		{"direct, denied", "198.51.100.1:5555", nil, "198.51.100.1", false},
		{"direct, forged header ignored", "198.51.100.1:5555", []string{"203.0.113.9"}, "198.51.100.1", false},
		{"direct ipv6, allowed", "[2001:db8::5]:443", nil, "2001:db8::5", true},
		{"ipv4-mapped peer", "[::ffff:203.0.113.9]:80", nil, "203.0.113.9", true},
		{"via proxy, allowed client", "10.0.0.5:80", []string{"203.0.113.9"}, "203.0.113.9", true},
		{"via proxy, denied client", "10.0.0.5:80", []string{"198.51.100.1"}, "198.51.100.1", false},
		{"via proxy, no header: the proxy itself", "10.0.0.5:80", nil, "10.0.0.5", false},
		{"via proxy, forged left entry", "10.0.0.5:80", []string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1", false},
		{"via two proxies", "10.0.0.5:80", []string{"203.0.113.9, 10.0.0.7"}, "203.0.113.9", true},
		{"two headers read as one list", "10.0.0.5:80", []string{"198.51.100.1", "203.0.113.9"}, "203.0.113.9", true},
		{"entry with a port", "10.0.0.5:80", []string{"203.0.113.9:4711"}, "203.0.113.9", true},
		{"ipv6 entry with a port", "[fd00::1]:80", []string{"[2001:db8::7]:4711"}, "2001:db8::7", true},
		{"every hop a proxy", "10.0.0.5:80", []string{"10.0.0.8, 10.0.0.7"}, "10.0.0.8", false},
		{"malformed entry", "10.0.0.5:80", []string{"unknown"}, "", false},
		{"empty entry", "10.0.0.5:80", []string{"203.0.113.9, "}, "", false},
		{"malformed entry left of the client is not read", "10.0.0.5:80", []string{"garbage, 203.0.113.9"}, "203.0.113.9", true},
		{"unparseable peer", "pipe", nil, "", false},
	}
	l := webhookauth.NewAllowList(allow, proxies)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/v1/checks/build", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			client, ok := l.Client(r)
			if got := map[bool]string{true: client.String(), false: ""}[ok]; got != tt.wantClient {
				t.Errorf("Client: got %q (ok %v), want %q", got, ok, tt.wantClient)
			}
			if got, _ := l.Admits(r); got != tt.wantAdmit {
				t.Errorf("Admits: got %v, want %v", got, tt.wantAdmit)
			}
		})
	}
}

func TestEmptyAllowListAdmitsEveryone(t *testing.T) {
	t.Parallel()
	for _, l := range []*webhookauth.AllowList{nil, {}, webhookauth.NewAllowList(nil, mustPrefixes(t, "10.0.0.0/8"))} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "pipe" // even an address that does not parse
		if ok, _ := l.Admits(r); !ok || l.Restricts() {
			t.Errorf("%+v: Admits %v, Restricts %v; want true, false", l, ok, l.Restricts())
		}
	}
}
