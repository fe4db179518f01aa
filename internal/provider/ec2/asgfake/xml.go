package asgfake

import (
	"encoding/xml"
	"time"

	"github.com/adofleet/adofleet/internal/provider/ec2/internal/queryfake"
)

type response struct {
	XMLName xml.Name
	Xmlns   string           `xml:"xmlns,attr"`
	Result  *resultWrapper   `xml:",omitempty"`
	Meta    responseMetadata `xml:"ResponseMetadata"`
}

type resultWrapper struct {
	XMLName xml.Name
	Body    any
}

// MarshalXML writes the result's members directly inside <OpResult>.
func (r resultWrapper) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(r.Body, xml.StartElement{Name: r.XMLName})
}

// empty is the result of operations whose result has no members.
type empty struct{}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type describeResult struct {
	Groups []groupXML `xml:"AutoScalingGroups>member"`
}

type groupXML struct {
	Name              string        `xml:"AutoScalingGroupName"`
	Min               int           `xml:"MinSize"`
	Max               int           `xml:"MaxSize"`
	Desired           int           `xml:"DesiredCapacity"`
	DefaultCooldown   int           `xml:"DefaultCooldown"`
	AvailabilityZones []string      `xml:"AvailabilityZones>member"`
	HealthCheckType   string        `xml:"HealthCheckType"`
	CreatedTime       time.Time     `xml:"CreatedTime"`
	Instances         []instanceXML `xml:"Instances>member"`
}

type instanceXML struct {
	ID             string `xml:"InstanceId"`
	InstanceType   string `xml:"InstanceType"`
	AZ             string `xml:"AvailabilityZone"`
	LifecycleState string `xml:"LifecycleState"`
	HealthStatus   string `xml:"HealthStatus"`
	Protected      bool   `xml:"ProtectedFromScaleIn"`
}

type terminateResult struct {
	Activity activityXML `xml:"Activity"`
}

type activityXML struct {
	ID         string    `xml:"ActivityId"`
	Group      string    `xml:"AutoScalingGroupName"`
	Cause      string    `xml:"Cause"`
	StartTime  time.Time `xml:"StartTime"`
	StatusCode string    `xml:"StatusCode"`
}

// ResultTypes maps each answered operation to the content of its <OpResult> (nil: the operation
// has no result members).
var ResultTypes = map[string]any{
	"DescribeAutoScalingGroups":           describeResult{},
	"SetDesiredCapacity":                  nil,
	"SetInstanceProtection":               empty{},
	"TerminateInstanceInAutoScalingGroup": terminateResult{},
	"CompleteLifecycleAction":             empty{},
}

type errorResponse struct {
	XMLName   xml.Name  `xml:"ErrorResponse"`
	Xmlns     string    `xml:"xmlns,attr"`
	Error     errorBody `xml:"Error"`
	RequestID string    `xml:"RequestId"`
}

type errorBody struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

var dialect = queryfake.Dialect{
	ContentType:   "text/xml",
	MalformedCode: "MalformedInput",
	InternalCode:  "InternalFailure",
	ErrorDoc: func(code, msg string) any {
		return errorResponse{Xmlns: Namespace, Error: errorBody{"Sender", code, msg}, RequestID: "fake-request"}
	},
}
