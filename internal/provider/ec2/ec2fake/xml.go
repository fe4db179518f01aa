package ec2fake

import (
	"encoding/xml"
	"time"
)

// Response documents. Element names are the model's locationNames; awsmodel checks them.

type runInstancesResponse struct {
	XMLName xml.Name `xml:"RunInstancesResponse"`
	reservationXML
}

type describeInstancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []reservationXML `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type reservationXML struct {
	Xmlns         string        `xml:"xmlns,attr,omitempty"`
	RequestID     string        `xml:"requestId,omitempty"`
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []instanceXML `xml:"instancesSet>item"`
}

type instanceXML struct {
	InstanceID        string     `xml:"instanceId"`
	ImageID           string     `xml:"imageId"`
	State             stateXML   `xml:"instanceState"`
	InstanceType      string     `xml:"instanceType"`
	LaunchTime        time.Time  `xml:"launchTime"`
	Placement         placement  `xml:"placement"`
	SubnetID          string     `xml:"subnetId"`
	ClientToken       string     `xml:"clientToken,omitempty"`
	InstanceLifecycle string     `xml:"instanceLifecycle,omitempty"`
	StateReason       *reasonXML `xml:"stateReason,omitempty"`
	Tags              []tagXML   `xml:"tagSet>item"`
}

type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
}

type reasonXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type terminateInstancesResponse struct {
	XMLName   xml.Name         `xml:"TerminateInstancesResponse"`
	Xmlns     string           `xml:"xmlns,attr"`
	RequestID string           `xml:"requestId"`
	Changes   []stateChangeXML `xml:"instancesSet>item"`
}

type stateChangeXML struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  stateXML `xml:"currentState"`
	PreviousState stateXML `xml:"previousState"`
}

type createTagsResponse struct {
	XMLName   xml.Name `xml:"CreateTagsResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Return    bool     `xml:"return"`
}

// ResponseTypes maps each answered operation to a zero value of its response document, for
// checking against the model (skip "requestId" and "return": EC2 metadata outside the model).
var ResponseTypes = map[string]any{
	"RunInstances":       runInstancesResponse{},
	"DescribeInstances":  describeInstancesResponse{},
	"TerminateInstances": terminateInstancesResponse{},
	"CreateTags":         createTagsResponse{},
}

// stateCodes are EC2's instance state codes (the low byte).
var stateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}
