// Package vmresource keeps ADO Environments in step with EC2 Auto Scaling groups: an instance that
// launches registers itself as a VM resource of its Environment (from its user data), and this
// package removes the resource, and the hidden agent it leaves in the Environment's deployment
// pool, when the instance terminates.
//
// Events arrive on an SQS queue in either of two shapes: the Auto Scaling lifecycle-hook
// notification (sent by the hook straight to SQS, or through an SNS topic, which wraps it in an
// envelope whose Message holds the notification's JSON), and the EventBridge events of source
// aws.autoscaling (the lifecycle-action events and the launch/terminate-successful events). See
// event.go for the exact fields.
//
// Every instance has one store.VMRecord, written at launch because the instance's tags are often
// gone by the time its termination is reported. Writes are conditional (store Version), so
// duplicated, concurrent and out-of-order events converge: a termination seen before its launch
// records the instance as gone, and the late launch then does nothing. A resource is deleted only
// when both its name (the instance id) and, once recorded, its resource id match, so a replacement
// that re-registered the same name is never deleted by mistake.
//
// Reconcile, run on a timer, removes the resources whose instance no longer exists and reports
// the running instances of configured groups that are missing from their Environment. It only
// considers resources and hidden agents named like an EC2 instance id (i-...), so a machine
// registered by hand under another name is never touched.
//
// Launch lifecycle actions are not completed here: a launch hook is for the instance's own user
// data (complete it once the agent has registered) or its DefaultResult. Termination actions are
// completed with CONTINUE once the resource and its hidden agent are gone; completing one that is
// no longer pending is success.
//
// Dry run (Options.DryRun) reads everything and writes nothing: no ADO deletion, no lifecycle
// completion, no store write; logs and the Report say what would have been done.
package vmresource
