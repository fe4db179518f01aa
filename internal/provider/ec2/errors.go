package ec2

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/provider"
)

// errClass says what a failed RunInstances attempt means for the next one.
type errClass int

const (
	classFatal    errClass = iota // the request is wrong: stop trying this agent
	classCapacity                 // no capacity for this type/subnet: try the next override
	classSpot                     // spot is unavailable as a whole: go straight to on-demand
)

// capacityCodes are the EC2 error codes meaning "not here, not now".
var capacityCodes = map[string]bool{
	"InsufficientInstanceCapacity": true,
	"InsufficientHostCapacity":     true,
	"InsufficientCapacity":         true,
	"Unsupported":                  true, // the type is not offered in this subnet's zone
}

// spotCodes are the spot-specific errors after which on-demand is the only way.
var spotCodes = map[string]bool{
	"SpotMaxPriceTooLow":             true,
	"MaxSpotInstanceCountExceeded":   true,
	"InsufficientSpotCapacity":       true,
	"SpotInstanceCountLimitExceeded": true,
}

func classify(err error) errClass {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return classFatal
	}
	code := api.ErrorCode()
	switch {
	case spotCodes[code]:
		return classSpot
	case capacityCodes[code], strings.Contains(strings.ToLower(api.ErrorMessage()), "no spot capacity"):
		return classCapacity
	default:
		return classFatal
	}
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// fatal wraps a non-capacity failure, typing the ones that can never succeed as written.
func fatal(agent string, err error) error {
	code := errorCode(err)
	if strings.HasPrefix(code, "Invalid") || strings.HasPrefix(code, "Missing") || code == "UnauthorizedOperation" {
		return fmt.Errorf("launch agent %q: %w: %w", agent, provider.ErrInvalidRequest, err)
	}
	return fmt.Errorf("launch agent %q: %w", agent, err)
}
