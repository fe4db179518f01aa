package kubernetes

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/adofleet/adofleet/internal/provider"
)

// observed is a Pod in the provider-neutral view, with what List needs to clean it up.
type observed struct {
	inst provider.Instance
	// endedAt is when a terminated Pod ended (zero while it lives).
	endedAt time.Time
	// failedStart: the Pod never got its agent running and never will; List deletes it at once.
	failedStart bool
}

// permanentWaits are container waiting reasons that no retry of the kubelet can fix.
var permanentWaits = map[string]bool{"InvalidImageName": true, "ErrImageNeverPull": true}

// startWaits are waiting reasons the kubelet retries but that usually mean a broken template: a
// wrong image or registry credentials, a missing Secret or ConfigMap key.
var startWaits = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "ImageInspectError": true, "RegistryUnavailable": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
	"ContainerCannotRun": true, "PreCreateHookError": true, "PreStartHookError": true,
}

// instance maps pod to the provider-neutral view at time now.
func (p *Provider) instance(pod *corev1.Pod, now time.Time) observed {
	a := pod.Annotations
	inst := provider.Instance{
		ID:        pod.Namespace + "/" + pod.Name,
		Pool:      a[LabelPool],
		AgentName: a[LabelAgent],
		Tags:      map[string]string{provider.TagPool: a[LabelPool], provider.TagController: a[LabelController], provider.TagAgent: a[LabelAgent]},
	}
	if tok := a[LabelLaunch]; tok != "" {
		inst.Tags[provider.TagToken] = tok
	}
	switch t, err := time.Parse(time.RFC3339, a[AnnotationLaunchedAt]); {
	case err == nil:
		inst.LaunchedAt = t
	case !pod.CreationTimestamp.IsZero():
		inst.LaunchedAt = pod.CreationTimestamp.Time
	default:
		inst.LaunchedAt = now
	}
	o := observed{inst: inst}
	age := now.Sub(inst.LaunchedAt)
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		o.inst.State, o.inst.Reason, o.endedAt = provider.StateTerminated, endedReason(pod), endedAt(pod, inst.LaunchedAt)
	case corev1.PodRunning:
		o.inst.State = provider.StateRunning
	case corev1.PodPending, "":
		o.inst.State = provider.StatePending
		o.pending(pod, age, p.opts)
	default: // Unknown: the node stopped reporting; the Pod may well still run its job
		o.inst.State, o.inst.Reason = provider.StateRunning, "pod phase "+string(pod.Status.Phase)
	}
	if o.failedStart {
		o.inst.State, o.endedAt = provider.StateTerminated, now
	}
	if pod.DeletionTimestamp != nil && o.inst.State != provider.StateTerminated {
		o.inst.State = provider.StateStopping
	}
	return o
}

// pending says why a pending Pod is not running yet, and whether that counts as a failed start:
// a container that cannot be created or pulled (at once if it never can be, else after
// StartFailureTimeout), or a Pod the scheduler cannot place for UnschedulableTimeout.
func (o *observed) pending(pod *corev1.Pod, age time.Duration, opts Options) {
	if w := agentWaiting(pod); w != nil && (permanentWaits[w.Reason] || startWaits[w.Reason]) {
		o.inst.Reason = ContainerName + ": " + w.Reason + message(w.Message)
		switch {
		case permanentWaits[w.Reason]:
			o.failedStart = true
		case age >= opts.StartFailureTimeout:
			// The timeout, not the age, goes into the reason: equal reasons share one alert.
			o.failedStart = true
			o.inst.Reason = fmt.Sprintf("not started within %s: %s", opts.StartFailureTimeout, o.inst.Reason)
		}
		return
	}
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		o.inst.Reason = "Unschedulable" + message(c.Message)
		if age >= opts.UnschedulableTimeout {
			o.failedStart = true
			o.inst.Reason = fmt.Sprintf("not scheduled within %s: %s", opts.UnschedulableTimeout, o.inst.Reason)
		}
		return
	}
}

// endedReason joins what Kubernetes says about a Pod that ended: the Pod's own reason (Evicted,
// DeadlineExceeded, ...) and message, and the agent container's termination (Completed, Error,
// OOMKilled) with its exit code.
func endedReason(pod *corev1.Pod) string {
	var parts []string
	if pod.Status.Reason != "" || pod.Status.Message != "" {
		parts = append(parts, "pod "+strings.TrimSpace(pod.Status.Reason+message(pod.Status.Message)))
	}
	if cs := agentStatus(pod); cs != nil && cs.State.Terminated != nil {
		t := cs.State.Terminated
		s := fmt.Sprintf("%s: exit code %d", ContainerName, t.ExitCode)
		if t.Reason != "" {
			s = fmt.Sprintf("%s: %s, exit code %d", ContainerName, t.Reason, t.ExitCode)
		}
		parts = append(parts, s+message(t.Message))
	}
	if len(parts) == 0 {
		return "pod " + string(pod.Status.Phase)
	}
	return strings.Join(parts, "; ")
}

// endedAt is when the agent container finished; else when the Pod stopped being ready; else
// launched.
func endedAt(pod *corev1.Pod, launched time.Time) time.Time {
	if cs := agentStatus(pod); cs != nil && cs.State.Terminated != nil && !cs.State.Terminated.FinishedAt.IsZero() {
		return cs.State.Terminated.FinishedAt.Time
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	return launched
}

func agentStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == ContainerName {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}

func agentWaiting(pod *corev1.Pod) *corev1.ContainerStateWaiting {
	if cs := agentStatus(pod); cs != nil {
		return cs.State.Waiting
	}
	return nil
}

// message is ": msg", cut to keep a notification readable, or "" when there is none.
func message(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return ": " + msg
}
