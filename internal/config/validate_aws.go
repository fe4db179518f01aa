package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// regionRE matches AWS region names such as eu-west-1, us-gov-west-1 or cn-north-1.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

func (v validator) aws(a AWS) {
	v.region("aws.region", a.Region)
}

func (v validator) cloudWatch(c CloudWatch) {
	const at = "cloudwatch"
	v.region(at+".region", c.Region)
	v.endpoint(at+".endpoint", c.Endpoint)
	// CloudWatch's own rules for a namespace: 1-255 characters, no ':' first, and AWS/ is reserved.
	switch ns := c.Namespace; {
	case len(ns) > 255 || strings.HasPrefix(ns, ":"):
		v.errorf(at+".namespace", "must be 1-255 characters and not start with ':'")
	case strings.HasPrefix(ns, "AWS/"):
		v.errorf(at+".namespace", "the AWS/ prefix is reserved for AWS services; got %q", ns)
	}
	if c.Interval != 0 && c.Interval.D() < time.Second {
		v.errorf(at+".interval", "must be at least 1s (CloudWatch stores at most one-second resolution), got %q", c.Interval.String())
	}
}

// region checks the shape of an AWS region name; "" means inherited.
func (v validator) region(path, r string) {
	if r != "" && !regionRE.MatchString(r) {
		v.errorf(path, "%q is not an AWS region name such as eu-west-1", r)
	}
}

// endpoint checks an endpoint override: an absolute http(s) URL; "" means the service's own.
func (v validator) endpoint(path, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		v.errorf(path, "must be an absolute http(s) URL without credentials, such as a VPC endpoint's https://... URL")
	}
}
