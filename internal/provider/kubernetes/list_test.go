package kubernetes_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/adofleet/adofleet/internal/provider"
	k8sprov "github.com/adofleet/adofleet/internal/provider/kubernetes"
)

func TestListFindsThePoolsPodsByLabelAndAnnotation(t *testing.T) {
	t.Parallel()
	p, cs, c := newProvider(t)
	for _, req := range []provider.LaunchRequest{
		launchReq("Linux builds", "t1", "a1", "a2"),
		launchReq("Linux-builds", "t2", "b1"), // sanitises like the first: told apart by annotation
		launchReq("windows", "t3", "w1"),
	} {
		if _, err := p.Launch(ctx(t), req); err != nil {
			t.Fatal(err)
		}
	}
	// The same pool, another controller sharing the namespace.
	other := options(cs, c)
	other.Controller = "ctl-2"
	p2, err := k8sprov.New(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Launch(ctx(t), launchReq("Linux builds", "t4", "c1")); err != nil {
		t.Fatal(err)
	}
	got, err := p.List(ctx(t), "Linux builds")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var agents []string
	for _, in := range got {
		agents = append(agents, in.AgentName)
	}
	if diff := cmp.Diff([]string{"a1", "a2"}, agents); diff != "" {
		t.Errorf("listed agents (-want +got):\n%s", diff)
	}
}

// pod is a Pod of pool launched at launched, as the provider names and annotates it.
func pod(t *testing.T, p *k8sprov.Provider, agent string, launched time.Time, status corev1.PodStatus) *corev1.Pod {
	t.Helper()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.PodName("pool", agent), Namespace: ns,
			Labels: map[string]string{k8sprov.LabelPool: "pool", k8sprov.LabelController: controller, k8sprov.LabelAgent: agent},
			Annotations: map[string]string{k8sprov.LabelPool: "pool", k8sprov.LabelController: controller, k8sprov.LabelAgent: agent,
				k8sprov.AnnotationLaunchedAt: launched.Format(time.RFC3339)},
		},
		Status: status,
	}
}

func waiting(reason, msg string) corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
		Name: k8sprov.ContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
	}}}
}

func terminated(phase corev1.PodPhase, reason string, code int32, finished time.Time) corev1.PodStatus {
	return corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{
		Name: k8sprov.ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: reason, ExitCode: code, FinishedAt: metav1.NewTime(finished)}},
	}}}
}

func TestListReportsStatesReasonsAndCleansUp(t *testing.T) {
	t.Parallel()
	now := newClock().Now()
	unschedulable := corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: "0/3 nodes are available: 3 Insufficient cpu.",
	}}}
	evicted := terminated(corev1.PodFailed, "Error", 137, now.Add(-time.Minute))
	evicted.Reason, evicted.Message = "Evicted", "The node was low on resource: memory."
	tests := []struct {
		name       string
		launched   time.Duration // before now
		status     corev1.PodStatus
		wantState  provider.State
		wantReason string // substring
		wantGone   bool   // deleted by List
	}{
		{"running", time.Minute, corev1.PodStatus{Phase: corev1.PodRunning}, provider.StateRunning, "", false},
		{"unschedulable, young", time.Minute, unschedulable, provider.StatePending, "Unschedulable: 0/3 nodes are available", false},
		{"unschedulable, too long", 11 * time.Minute, unschedulable, provider.StateTerminated, "not scheduled within 10m0s: Unschedulable: 0/3 nodes", true},
		{"image pull back-off, young", time.Minute, waiting("ImagePullBackOff", `Back-off pulling image "nope:1"`), provider.StatePending, "ImagePullBackOff", false},
		{"image pull back-off, too long", 4 * time.Minute, waiting("ImagePullBackOff", `Back-off pulling image "nope:1"`), provider.StateTerminated, `not started within 3m0s: agent: ImagePullBackOff: Back-off pulling image "nope:1"`, true},
		{"missing secret", 5 * time.Minute, waiting("CreateContainerConfigError", `secret "ado-token" not found`), provider.StateTerminated, `CreateContainerConfigError: secret "ado-token" not found`, true},
		{"invalid image name, at once", 0, waiting("InvalidImageName", `couldn't parse image name "a b"`), provider.StateTerminated, "agent: InvalidImageName", true},
		{"completed, recently", 20 * time.Minute, terminated(corev1.PodSucceeded, "Completed", 0, now.Add(-time.Minute)), provider.StateTerminated, "agent: Completed, exit code 0", false},
		{"completed, long ago", time.Hour, terminated(corev1.PodSucceeded, "Completed", 0, now.Add(-11*time.Minute)), provider.StateTerminated, "Completed", true},
		{"crashed", 20 * time.Minute, terminated(corev1.PodFailed, "OOMKilled", 137, now.Add(-time.Minute)), provider.StateTerminated, "agent: OOMKilled, exit code 137", false},
		{"evicted", 20 * time.Minute, evicted, provider.StateTerminated, "pod Evicted: The node was low on resource: memory.; agent: Error, exit code 137", false},
		{"node lost", time.Minute, corev1.PodStatus{Phase: corev1.PodUnknown}, provider.StateRunning, "pod phase Unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, cs, _ := newProvider(t)
			po := pod(t, p, "a1", now.Add(-tt.launched), tt.status)
			if _, err := cs.CoreV1().Pods(ns).Create(ctx(t), po, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := p.List(ctx(t), "pool")
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("listed %d instances, want 1", len(got))
			}
			if got[0].State != tt.wantState {
				t.Errorf("state = %q, want %q", got[0].State, tt.wantState)
			}
			if !strings.Contains(got[0].Reason, tt.wantReason) || (tt.wantReason == "" && got[0].Reason != "") {
				t.Errorf("reason = %q, want it to contain %q", got[0].Reason, tt.wantReason)
			}
			_, err = cs.CoreV1().Pods(ns).Get(ctx(t), po.Name, metav1.GetOptions{})
			if gone := err != nil; gone != tt.wantGone {
				t.Errorf("pod deleted = %v, want %v (get: %v)", gone, tt.wantGone, err)
			}
		})
	}
}

func TestTerminateDeletesAndToleratesGonePods(t *testing.T) {
	t.Parallel()
	p, cs, _ := newProvider(t)
	insts, err := p.Launch(ctx(t), launchReq("pool", "t", "a1", "a2"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{insts[0].ID, insts[1].ID, ns + "/already-gone"}
	if err := p.Terminate(ctx(t), ids); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	got, err := p.List(ctx(t), "pool")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("listed after terminate: %v", got)
	}
	if got, want := countVerb(cs, "delete"), 3; got != want {
		t.Errorf("deletes = %d, want %d", got, want)
	}
	if err := p.Terminate(ctx(t), []string{"no-slash"}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("Terminate(bad id) = %v, want ErrInvalidRequest", err)
	}
}
