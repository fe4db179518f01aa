package vmresource

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The message shapes (field names as in the Amazon EC2 Auto Scaling user guide, "Lifecycle hook
// notifications" and "Amazon EC2 Auto Scaling event reference"):
//
//   - A lifecycle hook's notification, sent by the hook to SQS: a JSON object with
//     LifecycleTransition ("autoscaling:EC2_INSTANCE_LAUNCHING" / "..._TERMINATING"),
//     AutoScalingGroupName, EC2InstanceId, LifecycleHookName and LifecycleActionToken; the hook's
//     first message is {"Event": "autoscaling:TEST_NOTIFICATION", ...}.
//   - The same through SNS: an envelope {"Type": "Notification", "Message": "<the JSON above>"}.
//     A group's plain SNS notifications ("Event": "autoscaling:EC2_INSTANCE_LAUNCH" /
//     "autoscaling:EC2_INSTANCE_TERMINATE", with EC2InstanceId) are accepted too, as events without
//     a hook.
//   - EventBridge: {"source": "aws.autoscaling", "detail-type": ..., "detail": {...}} with the
//     detail-types "EC2 Instance-launch Lifecycle Action", "EC2 Instance-terminate Lifecycle
//     Action" (detail as a hook notification), "EC2 Instance Launch Successful" and "EC2 Instance
//     Terminate Successful" (detail with EC2InstanceId and AutoScalingGroupName).

type kind string

const (
	kindLaunch    kind = "launch"
	kindTerminate kind = "terminate"
)

// event is one launch or termination, whatever shape it came in.
type event struct {
	Kind       kind
	Group      string
	InstanceID string
	Hook       string // lifecycle hook name; "" when no hook holds the instance
	Token      string // lifecycle action token, when the event has one
	Shape      string // "hook", "sns", "eventbridge": for logs
}

const (
	transitionLaunching   = "autoscaling:EC2_INSTANCE_LAUNCHING"
	transitionTerminating = "autoscaling:EC2_INSTANCE_TERMINATING"
	testNotification      = "autoscaling:TEST_NOTIFICATION"
	groupLaunch           = "autoscaling:EC2_INSTANCE_LAUNCH"
	groupTerminate        = "autoscaling:EC2_INSTANCE_TERMINATE"
)

var eventBridgeTypes = map[string]struct {
	kind kind
	hook bool
}{
	"EC2 Instance-launch Lifecycle Action":    {kindLaunch, true},
	"EC2 Instance-terminate Lifecycle Action": {kindTerminate, true},
	"EC2 Instance Launch Successful":          {kindLaunch, false},
	"EC2 Instance Terminate Successful":       {kindTerminate, false},
}

// poison wraps ErrPoison with what is wrong.
func poison(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrPoison, fmt.Sprintf(format, args...))
}

// parse reads one message body. ignore is non-empty (the reason) when the message is deliberately
// not acted on; err wraps ErrPoison when the body can never be handled.
func parse(body string) (ev event, ignore string, err error) {
	obj, err := object(body, "message body")
	if err != nil {
		return event{}, "", err
	}
	shape := "hook"
	if t, ok := str(obj, "Type"); ok {
		if t != "Notification" {
			return event{}, "", poison("SNS message Type %q is not Notification", t)
		}
		msg, ok := str(obj, "Message")
		if !ok {
			return event{}, "", poison("SNS notification has no string field Message")
		}
		if obj, err = object(msg, "SNS Message"); err != nil {
			return event{}, "", err
		}
		shape = "sns"
	}
	if _, ok := obj["detail-type"]; ok {
		return parseEventBridge(obj)
	}
	ev, ignore, err = parseNotification(obj, "")
	if err != nil || ignore != "" {
		return event{}, ignore, err // nothing half-read goes with a refusal
	}
	ev.Shape = shape
	return ev, "", nil
}

func parseEventBridge(obj map[string]json.RawMessage) (event, string, error) {
	if src, _ := str(obj, "source"); src != "aws.autoscaling" {
		return event{}, "", poison("EventBridge event source %q is not aws.autoscaling", src)
	}
	dt, _ := str(obj, "detail-type")
	t, ok := eventBridgeTypes[dt]
	if !ok {
		return event{}, "EventBridge detail-type " + dt, nil
	}
	raw, ok := obj["detail"]
	if !ok {
		return event{}, "", poison("EventBridge event has no field detail")
	}
	var detail map[string]json.RawMessage
	if err := json.Unmarshal(raw, &detail); err != nil || detail == nil {
		return event{}, "", poison("EventBridge field detail is not a JSON object")
	}
	ev := event{Kind: t.kind, Shape: "eventbridge"}
	if err := ev.identify(detail, "detail."); err != nil {
		return event{}, "", err
	}
	if t.hook {
		if err := ev.hook(detail, "detail."); err != nil {
			return event{}, "", err
		}
	}
	return ev, "", nil
}

// parseNotification reads a lifecycle hook notification or a group notification.
func parseNotification(obj map[string]json.RawMessage, prefix string) (event, string, error) {
	var ev event
	if tr, ok := str(obj, "LifecycleTransition"); ok {
		switch tr {
		case transitionLaunching:
			ev.Kind = kindLaunch
		case transitionTerminating:
			ev.Kind = kindTerminate
		default:
			return event{}, "lifecycle transition " + tr, nil
		}
		if err := ev.identify(obj, prefix); err != nil {
			return event{}, "", err
		}
		return ev, "", ev.hook(obj, prefix)
	}
	e, ok := str(obj, "Event")
	if !ok {
		return event{}, "", poison("message has none of LifecycleTransition, Event, detail-type: not an Auto Scaling notification")
	}
	switch e {
	case testNotification:
		return event{}, "test notification", nil
	case groupLaunch:
		ev.Kind = kindLaunch
	case groupTerminate:
		ev.Kind = kindTerminate
	default:
		return event{}, "Auto Scaling notification " + e, nil
	}
	return ev, "", ev.identify(obj, prefix)
}

func (ev *event) identify(obj map[string]json.RawMessage, prefix string) error {
	var err error
	if ev.Group, err = required(obj, prefix, "AutoScalingGroupName"); err != nil {
		return err
	}
	if ev.InstanceID, err = required(obj, prefix, "EC2InstanceId"); err != nil {
		return err
	}
	if !strings.HasPrefix(ev.InstanceID, "i-") {
		return poison("field %sEC2InstanceId %q is not an EC2 instance id", prefix, ev.InstanceID)
	}
	return nil
}

func (ev *event) hook(obj map[string]json.RawMessage, prefix string) error {
	var err error
	if ev.Hook, err = required(obj, prefix, "LifecycleHookName"); err != nil {
		return err
	}
	// The token is optional: CompleteLifecycleAction accepts the instance id instead.
	ev.Token, _ = str(obj, "LifecycleActionToken")
	return nil
}

func object(s, what string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &obj); err != nil || obj == nil {
		return nil, poison("%s is not a JSON object", what)
	}
	return obj, nil
}

// str returns a string field; ok is false when it is absent, null or not a string.
func str(obj map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := obj[key]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func required(obj map[string]json.RawMessage, prefix, key string) (string, error) {
	s, ok := str(obj, key)
	if !ok || strings.TrimSpace(s) == "" {
		return "", poison("field %s%s is missing or empty", prefix, key)
	}
	return s, nil
}
