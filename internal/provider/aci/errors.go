package aci

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/adofleet/adofleet/internal/provider"
)

// capacityCodes are ARM/ACI error codes that mean "not now, not here": a quota or the region's
// capacity. ContainerGroupQuotaReached comes with HTTP 400, so codes are checked before statuses.
var capacityCodes = map[string]bool{
	"ContainerGroupQuotaReached": true, // cores or group count quota of the region
	"ServiceUnavailable":         true, // "the requested resource is not available in the location"
	"QuotaExceeded":              true,
	"SkuNotAvailable":            true,
}

// invalidCodes are errors no retry can fix: the request or the configuration is wrong.
var invalidCodes = map[string]bool{
	"InvalidRequest":                      true,
	"InvalidRequestContent":               true,
	"InvalidParameter":                    true,
	"InvalidContainerGroupName":           true,
	"InaccessibleImage":                   true, // the registry refused the credentials or has no such image
	"AuthorizationFailed":                 true,
	"LinkedAuthorizationFailed":           true,
	"MissingSubscriptionRegistration":     true,
	"SubscriptionNotRegistered":           true,
	"ResourceGroupNotFound":               true,
	"InvalidResourceReference":            true, // e.g. a subnet or identity that does not exist
	"LocationNotAvailableForResourceType": true,
}

// apiError is an ARM error reduced to its code, status and message: azcore's own Error() text
// spans many lines (request, headers, body). Unwrap keeps errors.As(*azcore.ResponseError) working.
type apiError struct {
	resp    *azcore.ResponseError
	message string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s (HTTP %d)", e.resp.ErrorCode, e.resp.StatusCode)
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

func (e *apiError) Unwrap() error { return e.resp }

// classify wraps an ARM error with the provider's typed error it stands for. The SDK's retry
// policy has already retried throttling (429) and server errors by the time an error gets here.
func classify(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	ae := &apiError{resp: re, message: errorMessage(re)}
	switch {
	case capacityCodes[re.ErrorCode]:
		return fmt.Errorf("%w: %w", provider.ErrInsufficientCapacity, ae)
	case invalidCodes[re.ErrorCode], re.StatusCode == http.StatusBadRequest, re.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: %w", provider.ErrInvalidRequest, ae)
	}
	return ae
}

// errorMessage reads error.message from the ARM error body, which the SDK keeps readable.
func errorMessage(re *azcore.ResponseError) string {
	if re.RawResponse == nil {
		return ""
	}
	body, err := runtime.Payload(re.RawResponse)
	if err != nil || len(body) == 0 {
		return ""
	}
	var doc struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	return doc.Error.Message
}

// isNotFound reports whether err says the container group does not exist. A missing resource
// group is not "not found" to a launch: it is a configuration error.
func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound && re.ErrorCode != "ResourceGroupNotFound"
}

// isGone reports whether a delete found nothing to delete: no group, or no resource group either.
func isGone(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}
