package ecs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/provider"
)

// invalidCodes are API errors that no retry can fix: the request or the configuration is wrong.
var invalidCodes = map[string]bool{
	"ClientException":                                true, // e.g. task definition not found
	"InvalidParameterException":                      true,
	"ClusterNotFoundException":                       true,
	"PlatformUnknownException":                       true,
	"PlatformTaskDefinitionIncompatibilityException": true,
	"UnsupportedFeatureException":                    true,
	"AccessDeniedException":                          true,
	"BlockedException":                               true,
}

// classify wraps an ECS API error with the provider's typed error it stands for. The SDK's
// retryer has already retried throttling and server errors by the time an error gets here.
func classify(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := strings.ToLower(ae.ErrorMessage())
	switch {
	case strings.Contains(msg, "capacity"):
		return fmt.Errorf("%w: %w", provider.ErrInsufficientCapacity, err)
	case invalidCodes[ae.ErrorCode()]:
		return fmt.Errorf("%w: %w", provider.ErrInvalidRequest, err)
	}
	return err
}

// failureError maps an entry of RunTask's `failures` list. Reasons ECS documents: RESOURCE:CPU,
// RESOURCE:MEMORY, RESOURCE:ENI, RESOURCE:GPU, RESOURCE:PORTS (no container instance has room),
// AGENT (the instance's agent is disconnected), ATTRIBUTE (no instance satisfies a placement
// constraint), MISSING; Fargate says "Capacity is unavailable at this time".
func failureError(f types.Failure) error {
	reason := aws.ToString(f.Reason)
	detail := reason
	if d := aws.ToString(f.Detail); d != "" {
		detail += " (" + d + ")"
	}
	switch {
	case strings.HasPrefix(reason, "RESOURCE:"), reason == "AGENT",
		strings.Contains(strings.ToLower(reason), "capacity"):
		return fmt.Errorf("%w: RunTask failure %s", provider.ErrInsufficientCapacity, detail)
	case reason == "ATTRIBUTE", reason == "MISSING":
		return fmt.Errorf("%w: RunTask failure %s", provider.ErrInvalidRequest, detail)
	}
	return fmt.Errorf("RunTask failure %s", detail)
}

// isGone reports whether StopTask's error means the task no longer exists.
func isGone(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := strings.ToLower(ae.ErrorMessage())
	return ae.ErrorCode() == "InvalidParameterException" && strings.Contains(msg, "not found")
}
