package config

import "regexp"

// headerRE is an HTTP header name (an RFC 9110 token).
var headerRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func (v validator) checks(c Checks) {
	const at = "checks"
	v.secretRef(at+".password", c.Password)
	v.secretRef(at+".sharedSecret", c.SharedSecret)
	v.positive(at+".timeout", c.Timeout)
	if c.MaxBodyBytes < 0 {
		v.errorf(at+".maxBodyBytes", "must be positive, got %d", c.MaxBodyBytes)
	}
	if !headerRE.MatchString(c.SecretHeader) {
		v.errorf(at+".secretHeader", "must be an HTTP header name such as X-Adofleet-Secret; got %q", c.SecretHeader)
	}
	if (c.Username == "") != (c.Password == "") {
		v.errorf(at+".username", "username and password go together; set both or neither")
	}
	if !c.Enabled {
		return
	}
	if c.Password == "" && c.SharedSecret == "" {
		v.errorf(at+".enabled", "set checks.username and checks.password, or checks.sharedSecret (or both): an unauthenticated endpoint would let anyone start agents")
	}
	// web.listen "off" is checked by serve, not here: the Lambda checks function serves the
	// endpoint without a listener, and its config usually turns web off.
}
