package kubelease_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/leader/kubelease"
	"github.com/adofleet/adofleet/internal/promreg/promregtest"
)

const ns = "adofleet"

// candidate is one replica: its elector, whether its lead callback runs, and how Run ended.
type candidate struct {
	e       leader.Elector
	leading atomic.Bool
	terms   atomic.Int32
	cancel  context.CancelFunc
	done    chan error
}

func start(t *testing.T, client kubernetes.Interface, id string, reg prometheus.Registerer) *candidate {
	t.Helper()
	e, err := kubelease.New(client, ns, leader.Options{
		Identity: id, LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		Registerer: reg,
	})
	if err != nil {
		t.Fatalf("New(%s): %v", id, err)
	}
	c := &candidate{e: e, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		c.done <- e.Run(ctx, func(ctx context.Context) {
			c.terms.Add(1)
			c.leading.Store(true)
			<-ctx.Done()
			c.leading.Store(false)
		})
	}()
	return c
}

func TestTheOtherReplicaTakesOverWhenTheLeaderStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := withOptimisticConcurrency(fake.NewClientset())
		reg := prometheus.NewRegistry()
		a := start(t, client, "a", reg)
		synctest.Wait()
		if !a.e.IsLeader() || !a.leading.Load() {
			t.Fatalf("a: IsLeader %v, lead running %v; want both (the lease was free)", a.e.IsLeader(), a.leading.Load())
		}
		b := start(t, client, "b", nil)
		time.Sleep(time.Minute) // many retry periods: b keeps trying, a keeps renewing
		synctest.Wait()
		if b.e.IsLeader() || b.leading.Load() {
			t.Fatalf("b leads while a holds the lease")
		}
		if !a.e.IsLeader() {
			t.Fatalf("a lost the lease while renewing it")
		}

		a.cancel()
		if err := <-a.done; err != nil {
			t.Errorf("a's Run = %v, want nil", err)
		}
		if a.leading.Load() || a.e.IsLeader() {
			t.Errorf("a: lead still running %v, IsLeader %v after Run returned", a.leading.Load(), a.e.IsLeader())
		}
		lease, err := client.CoordinationV1().Leases(ns).Get(context.Background(), leader.DefaultName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h := lease.Spec.HolderIdentity; h != nil && *h == "a" {
			t.Errorf("the lease still names a after a stopped (ReleaseOnCancel)")
		}
		// Released, so b takes it at its next retry (a jittered retry period: at most 2.2 of
		// them), well before a lease duration.
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if !b.e.IsLeader() || !b.leading.Load() {
			t.Errorf("b: IsLeader %v, lead running %v; want both after a released the lease", b.e.IsLeader(), b.leading.Load())
		}
		if got, want := counter(t, reg, "adofleet_leader_transitions_total", "follower"), 1.0; got != want {
			t.Errorf("a's transitions to follower = %v, want %v", got, want)
		}
		if got, want := counter(t, reg, "adofleet_leader_transitions_total", "leader"), 1.0; got != want {
			t.Errorf("a's transitions to leader = %v, want %v", got, want)
		}
		b.cancel()
		<-b.done
	})
}

func TestLeadEndsWhenTheLeaseIsTakenAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := withOptimisticConcurrency(fake.NewClientset())
		a := start(t, client, "a", nil)
		synctest.Wait()
		if !a.leading.Load() {
			t.Fatal("a does not lead")
		}
		// Another holder overwrites the lease (as after a partition healed late): a's next
		// renewal sees it is no longer the holder.
		leases := client.CoordinationV1().Leases(ns)
		lease, err := leases.Get(context.Background(), leader.DefaultName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		intruder, now := "intruder", metav1.NewMicroTime(time.Now())
		lease.Spec.HolderIdentity, lease.Spec.RenewTime, lease.Spec.AcquireTime = &intruder, &now, &now
		if _, err := leases.Update(context.Background(), lease, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Past the renew deadline (10s after the last renewal, which may have come up to a retry
		// period before the intrusion), before the intruder's 15s lease expires.
		time.Sleep(13 * time.Second)
		synctest.Wait()
		if a.leading.Load() || a.e.IsLeader() {
			t.Errorf("a: lead running %v, IsLeader %v; want neither once the lease is another's", a.leading.Load(), a.e.IsLeader())
		}
		if got := a.terms.Load(); got != 1 {
			t.Errorf("a's terms = %d, want 1 (the intruder's lease has not expired)", got)
		}
		a.cancel()
		if err := <-a.done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

func TestNewChecksItsArguments(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	tests := []struct {
		name   string
		client kubernetes.Interface
		ns     string
		opts   leader.Options
		want   string
	}{
		{"no client", nil, ns, leader.Options{}, "nil client"},
		{"no namespace", client, "", leader.Options{}, "namespace"},
		{"renew deadline too long", client, ns, leader.Options{LeaseDuration: time.Second, RenewDeadline: 2 * time.Second}, "renew deadline"},
	}
	for _, tt := range tests {
		if _, err := kubelease.New(tt.client, tt.ns, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error about %q", tt.name, err, tt.want)
		}
	}
}

// counter reads the counter name{to=to} from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, to string) float64 {
	t.Helper()
	v, _ := promregtest.Value(t, reg, name, "to", to)
	return v
}

// withOptimisticConcurrency makes the fake clientset refuse a Lease update whose resourceVersion
// is not the stored one, as the API server does (the fake's tracker does not check): client-go's
// elector renews from its cached copy and relies on that conflict to notice another holder.
func withOptimisticConcurrency(cs *fake.Clientset) *fake.Clientset {
	var mu sync.Mutex
	version := 0
	gvr := coordinationv1.SchemeGroupVersion.WithResource("leases")
	cs.PrependReactor("*", "leases", func(action k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		// Create and update actions have the same method set: tell them apart by verb.
		switch action.GetVerb() {
		case "create":
			version++
			action.(k8stesting.CreateAction).GetObject().(*coordinationv1.Lease).ResourceVersion = strconv.Itoa(version)
		case "update":
			a := action.(k8stesting.UpdateAction)
			lease := a.GetObject().(*coordinationv1.Lease)
			stored, err := cs.Tracker().Get(gvr, a.GetNamespace(), lease.Name)
			if err != nil {
				return true, nil, err
			}
			if rv := stored.(*coordinationv1.Lease).ResourceVersion; lease.ResourceVersion != rv {
				return true, nil, apierrors.NewConflict(gvr.GroupResource(), lease.Name,
					fmt.Errorf("the object has been modified; resourceVersion %s, stored %s", lease.ResourceVersion, rv))
			}
			version++
			lease.ResourceVersion = strconv.Itoa(version)
		}
		return false, nil, nil // the tracker stores it
	})
	return cs
}
