package kubernetes_test

// A recorded-wire test: an HTTP server answering the real Kubernetes REST paths with JSON shaped as
// kube-apiserver sends it (objects, Status errors, 429 with Retry-After), driven through the real
// client-go REST client. It checks what no fake clientset can: the requests client-go sends for
// this provider's calls, and that the provider reads the server's answers right.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/adofleet/adofleet/internal/provider"
	k8sprov "github.com/adofleet/adofleet/internal/provider/kubernetes"
)

// apiServer keeps Pods as JSON documents and records every request.
type apiServer struct {
	mu       sync.Mutex
	pods     map[string]map[string]any // by name
	requests []string                  // "METHOD path"
	queries  []url.Values              // of each list
	bodies   []string                  // POST bodies
	throttle int                       // answer this many next requests with 429
	quota    bool                      // answer creates with 403 exceeded quota
	uid      int
}

func newAPIServer(t *testing.T) (*apiServer, kubernetes.Interface) {
	t.Helper()
	s := &apiServer{pods: map[string]map[string]any{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	k8sprov.Tune(cfg, k8sprov.ClientOptions{Timeout: 10 * time.Second})
	cs, err := k8sprov.NewClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, cs
}

// status is a metav1.Status as kube-apiserver writes it.
func status(w http.ResponseWriter, code int, reason, msg string, details map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "details": details, "code": code,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

const podsPath = "/api/v1/namespaces/" + ns + "/pods"

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	if ct := r.Header.Get("Content-Type"); r.Method == http.MethodPost && ct != "application/json" {
		status(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "the body of the request was in an unknown format: "+ct, nil)
		return
	}
	if s.throttle > 0 {
		s.throttle--
		w.Header().Set("Retry-After", "1")
		status(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests, please try again later.", map[string]any{"retryAfterSeconds": 1})
		return
	}
	name, isItem := strings.CutPrefix(r.URL.Path, podsPath+"/")
	switch {
	case r.URL.Path == podsPath && r.Method == http.MethodGet:
		s.queries = append(s.queries, r.URL.Query())
		s.list(w, r.URL.Query().Get("labelSelector"))
	case r.URL.Path == podsPath && r.Method == http.MethodPost:
		s.create(w, r)
	case isItem && r.Method == http.MethodGet:
		if pod, ok := s.pods[name]; ok {
			writeJSON(w, http.StatusOK, pod)
			return
		}
		status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("pods %q not found", name), map[string]any{"name": name, "kind": "pods"})
	case isItem && r.Method == http.MethodDelete:
		pod, ok := s.pods[name]
		if !ok {
			status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("pods %q not found", name), map[string]any{"name": name, "kind": "pods"})
			return
		}
		// A graceful delete answers 200 with the Pod, now carrying its deletion timestamp.
		pod["metadata"].(map[string]any)["deletionTimestamp"] = "2026-03-01T12:00:30Z"
		delete(s.pods, name)
		writeJSON(w, http.StatusOK, pod)
	default:
		status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the server does not allow this method on the requested resource", nil)
	}
}

func (s *apiServer) create(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.bodies = append(s.bodies, string(body))
	var pod map[string]any
	if err := json.Unmarshal(body, &pod); err != nil {
		status(w, http.StatusBadRequest, "BadRequest", err.Error(), nil)
		return
	}
	meta := pod["metadata"].(map[string]any)
	name := meta["name"].(string)
	if s.quota {
		status(w, http.StatusForbidden, "Forbidden", fmt.Sprintf(`pods %q is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=4, limited: cpu=4`, name), map[string]any{"name": name, "kind": "pods"})
		return
	}
	if _, dup := s.pods[name]; dup {
		status(w, http.StatusConflict, "AlreadyExists", fmt.Sprintf("pods %q already exists", name), map[string]any{"name": name, "kind": "pods"})
		return
	}
	s.uid++
	meta["uid"] = fmt.Sprintf("6f0c3c8e-0000-4000-8000-%012d", s.uid)
	meta["resourceVersion"] = fmt.Sprint(1000 + s.uid)
	meta["creationTimestamp"] = "2026-03-01T12:00:00Z"
	pod["apiVersion"], pod["kind"] = "v1", "Pod"
	pod["status"] = map[string]any{"phase": "Pending", "qosClass": "Burstable"}
	s.pods[name] = pod
	writeJSON(w, http.StatusCreated, pod)
}

// list answers a PodList, matching an equality-based selector (k=v,k2=v2) as the server does.
func (s *apiServer) list(w http.ResponseWriter, selector string) {
	items := []any{}
	for _, pod := range s.pods {
		labels, _ := pod["metadata"].(map[string]any)["labels"].(map[string]any)
		match := true
		for _, term := range strings.Split(selector, ",") {
			k, v, _ := strings.Cut(term, "=")
			if term != "" && labels[k] != v {
				match = false
			}
		}
		if match {
			items = append(items, pod)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "PodList", "apiVersion": "v1",
		"metadata": map[string]any{"resourceVersion": "2000"}, "items": items})
}

func (s *apiServer) setStatus(name string, st map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods[name]["status"] = st
}

func (s *apiServer) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func wireProvider(t *testing.T, client kubernetes.Interface) *k8sprov.Provider {
	t.Helper()
	p, err := k8sprov.New(options(client, newClock()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWireLaunchListTerminate(t *testing.T) {
	t.Parallel()
	s, client := newAPIServer(t)
	p := wireProvider(t, client)
	req := launchReq("Linux builds", "tok-1", "a1")
	insts, err := p.Launch(ctx(t), req)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	podName := p.PodName("Linux builds", "a1")
	if got, want := insts[0].ID, ns+"/"+podName; got != want {
		t.Errorf("id = %q, want %q", got, want)
	}
	log := s.log()
	if diff := cmp.Diff([]string{"GET " + podsPath, "POST " + podsPath}, log); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	wantQuery := url.Values{
		"labelSelector": {"adofleet.io/controller=ctl-1,adofleet.io/launch=tok-1,adofleet.io/pool=" + k8sprov.LabelValue("Linux builds")},
		"limit":         {"500"},
	}
	if diff := cmp.Diff(wantQuery, s.queries[0]); diff != "" {
		t.Errorf("the launch's lookup query (-want +got):\n%s", diff)
	}
	body := s.bodies[0]
	if strings.Contains(body, secretPAT) {
		t.Errorf("the token's value was sent in the pod: %s", body)
	}
	if !strings.Contains(body, `{"name":"AZP_TOKEN","valueFrom":{"secretKeyRef":{"name":"ado-token","key":"pat"}}}`) {
		t.Errorf("AZP_TOKEN is not a secretKeyRef in %s", body)
	}

	// The kubelet cannot pull the image: the reason comes back through List.
	s.setStatus(podName, map[string]any{"phase": "Pending", "containerStatuses": []any{map[string]any{
		"name": "agent", "image": "registry.example/ado-agent:1", "imageID": "", "ready": false, "restartCount": 0, "started": false,
		"state": map[string]any{"waiting": map[string]any{"reason": "ImagePullBackOff", "message": `Back-off pulling image "registry.example/ado-agent:1"`}},
	}}})
	got, err := p.List(ctx(t), "Linux builds")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != 1 || got[0].State != provider.StatePending || !strings.Contains(got[0].Reason, "ImagePullBackOff") {
		t.Errorf("List = %+v, want one pending instance with reason ImagePullBackOff", got)
	}
	if got[0].AgentName != "a1" || got[0].Tags[provider.TagPool] != "Linux builds" {
		t.Errorf("instance = %+v, want agent a1 of pool %q", got[0], "Linux builds")
	}

	if err := p.Terminate(ctx(t), []string{insts[0].ID, ns + "/gone"}); err != nil {
		t.Fatalf("Terminate (one pod already gone, a 404): %v", err)
	}
	if got, err := p.List(ctx(t), "Linux builds"); err != nil || len(got) != 0 {
		t.Errorf("List after Terminate = %v, %v; want none", got, err)
	}
}

func TestWireAlreadyExistsReadsThePodBack(t *testing.T) {
	t.Parallel()
	s, client := newAPIServer(t)
	p := wireProvider(t, client)
	req := launchReq("pool", "tok-1", "a1")
	req.Token = "" // no token: no lookup before the create, so the create meets the 409
	if _, err := p.Launch(ctx(t), req); err != nil {
		t.Fatal(err)
	}
	_, err := p.Launch(ctx(t), req)
	var pe *provider.PartialError
	if !errors.As(err, &pe) || !strings.Contains(pe.Failed["a1"].Error(), "already exists from another launch") {
		t.Errorf("second launch: %v, want a1 refused as another launch's pod", err)
	}
	log := s.log()
	if want := "GET " + podsPath + "/" + p.PodName("pool", "a1"); log[len(log)-1] != want {
		t.Errorf("last request = %q, want %q (the 409 is followed by a read)", log[len(log)-1], want)
	}
}

func TestWireHonours429RetryAfter(t *testing.T) {
	t.Parallel()
	s, client := newAPIServer(t)
	p := wireProvider(t, client)
	s.mu.Lock()
	s.throttle = 1
	s.mu.Unlock()
	if _, err := p.List(ctx(t), "pool"); err != nil {
		t.Fatalf("List after one 429: %v", err)
	}
	if got, want := len(s.log()), 2; got != want {
		t.Errorf("requests = %d, want %d (the 429, then the retry)", got, want)
	}
}

func TestWireQuotaIsInsufficientCapacity(t *testing.T) {
	t.Parallel()
	s, client := newAPIServer(t)
	p := wireProvider(t, client)
	s.mu.Lock()
	s.quota = true
	s.mu.Unlock()
	_, err := p.Launch(ctx(t), launchReq("pool", "tok", "a1"))
	if !errors.Is(err, provider.ErrInsufficientCapacity) {
		t.Errorf("err = %v, want ErrInsufficientCapacity", err)
	}
}
