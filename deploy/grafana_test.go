package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
	"github.com/adofleet/adofleet/internal/store/storemetrics"
)

// The Grafana dashboard deploy/grafana/adofleet.json is checked without Grafana: it parses, its
// variables are the data source and the pool, every panel has a title, a data source and a unit,
// and every PromQL expression names only metrics and labels the code defines.

type dashboard struct {
	SchemaVersion int    `json:"schemaVersion"`
	UID           string `json:"uid"`
	Title         string `json:"title"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasourceRef  `json:"datasource"`
			Multi      bool            `json:"multi"`
			IncludeAll bool            `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Datasource  *datasourceRef `json:"datasource"`
	GridPos     struct{ H, W, X, Y int }
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr       string         `json:"expr"`
		RefID      string         `json:"refId"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

// processMetrics are the Go and process collectors' series the dashboard may use; serve
// registers both collectors (cmd/adofleet/wiring.go).
var processMetrics = []string{"process_resident_memory_bytes", "go_goroutines"}

// targetLabels are added by Prometheus (and the Prometheus Operator) at scrape time.
var targetLabels = []string{"instance", "job", "namespace", "pod", "service", "container", "endpoint"}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "adofleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("adofleet.json: %v", err)
	}
	return d
}

func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	metrics := scanMetrics(t)
	wiring, err := os.ReadFile(filepath.Join(repoRoot(t), "cmd", "adofleet", "wiring.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(wiring), "NewProcessCollector") && strings.Contains(string(wiring), "NewGoCollector") {
		for _, name := range processMetrics {
			metrics[name] = registeredMetric{Name: name, Kind: "gauge", At: "cmd/adofleet/wiring.go"}
		}
	}

	// Grafana 11.3 writes 40, 12 writes 41; older numbers are migrated on load, but a file
	// written for them misses what the migration adds.
	if d.SchemaVersion < 39 || d.UID == "" || d.Title == "" {
		t.Errorf("schemaVersion %d uid %q title %q, want a current schema (>= 39), a uid and a title", d.SchemaVersion, d.UID, d.Title)
	}
	vars := map[string]int{}
	for i, v := range d.Templating.List {
		vars[v.Name] = i
	}
	ds, ok := vars["datasource"]
	if !ok || d.Templating.List[ds].Type != "datasource" || string(d.Templating.List[ds].Query) != `"prometheus"` {
		t.Error("no datasource variable of type datasource for prometheus")
	}
	if i, ok := vars["pool"]; !ok {
		t.Error("no pool variable")
	} else {
		v := d.Templating.List[i]
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("pool variable query: %v", err)
		}
		m := regexp.MustCompile(`^label_values\((\w+),\s*pool\)$`).FindStringSubmatch(q.Query)
		if v.Type != "query" || m == nil || !v.Multi || !v.IncludeAll {
			t.Errorf("pool variable %+v %q, want a multi-value query label_values(METRIC, pool) with All", v, q.Query)
		} else if !slices.Contains(metrics[m[1]].Labels, "pool") {
			t.Errorf("pool variable reads %s, which has no pool label", m[1])
		}
		checkDatasource(t, "pool variable", v.Datasource)
	}

	ids := map[int]string{}
	var exprs int
	for _, p := range flattenPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q gridPos %+v is not within the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		checkDatasource(t, "panel "+p.Title, p.Datasource)
		if p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("panel %q has no unit", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if refs[tg.RefID] || tg.RefID == "" {
				t.Errorf("panel %q: refId %q empty or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			checkDatasource(t, "panel "+p.Title+" query "+tg.RefID, tg.Datasource)
			for _, problem := range checkPromQL(tg.Expr, metrics) {
				t.Errorf("panel %q query %s: %s\n  %s", p.Title, tg.RefID, problem, tg.Expr)
			}
			exprs++
		}
	}
	if exprs == 0 {
		t.Fatal("the dashboard has no queries")
	}
	checkNoOverlap(t, d.Panels)
}

func flattenPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flattenPanels(p.Panels)...)
	}
	return out
}

func checkDatasource(t *testing.T, what string, ds *datasourceRef) {
	t.Helper()
	if ds == nil || ds.Type != "prometheus" || ds.UID != "${datasource}" {
		t.Errorf("%s: datasource %+v, want prometheus ${datasource}", what, ds)
	}
}

// checkNoOverlap: no two top-level panels share a grid cell.
func checkNoOverlap(t *testing.T, ps []panel) {
	t.Helper()
	cells := map[[2]int]string{}
	for _, p := range ps {
		for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
			for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
				if prev, ok := cells[[2]int{x, y}]; ok {
					t.Errorf("panels %q and %q overlap at (%d, %d)", prev, p.Title, x, y)
					return
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
	}
}

// TestMetricScanMatchesRegistry checks the source reading of scanMetrics against the descriptors
// of collectors the packages themselves build and register: names, and labels where the scan
// could read them.
func TestMetricScanMatchesRegistry(t *testing.T) {
	t.Parallel()
	rec := &recordingRegisterer{}
	if _, err := storemetrics.New(rec, "sqlite"); err != nil {
		t.Fatal(err)
	}
	leader.NewMetrics(rec, "adofleet-controller")
	provider.Instrument("fake", fake.New(), rec)
	if _, err := ado.New(ado.Options{OrgURL: "https://dev.azure.com/example", PAT: "unused", Registerer: rec}); err != nil {
		t.Fatal(err)
	}
	if len(rec.descs) < 10 {
		t.Fatalf("%d descriptors registered, want the store, leader, provider and ado metrics", len(rec.descs))
	}
	scanned := scanMetrics(t)
	for _, d := range rec.descs {
		name, labels := parseDesc(t, d)
		m, ok := scanned[name]
		if !ok {
			t.Errorf("registered %s, which the source scan did not find", name)
			continue
		}
		if m.OpenLabels {
			continue
		}
		got := slices.Clone(m.Labels)
		sort.Strings(got)
		if diff := cmp.Diff(labels, got); diff != "" {
			t.Errorf("%s labels (-registry +scan):\n%s", name, diff)
		}
	}
}

// recordingRegisterer keeps the descriptors of what is registered on it.
type recordingRegisterer struct{ descs []*prometheus.Desc }

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		r.descs = append(r.descs, d)
	}
	return nil
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recordingRegisterer) Unregister(prometheus.Collector) bool { return true }

var descRE = regexp.MustCompile(`^Desc\{fqName: "([^"]+)", .*constLabels: \{(.*?)\}, variableLabels: \{(.*?)\}\}$`)

// parseDesc reads the name and the sorted label names (constant and variable) of d.
func parseDesc(t *testing.T, d *prometheus.Desc) (string, []string) {
	t.Helper()
	m := descRE.FindStringSubmatch(d.String())
	if m == nil {
		t.Fatalf("cannot read descriptor %s", d)
	}
	var labels []string
	for _, kv := range strings.Split(m[2], ",") {
		if name, _, ok := strings.Cut(kv, "="); ok {
			labels = append(labels, strings.TrimSpace(name))
		}
	}
	for _, l := range strings.Split(m[3], ",") {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	sort.Strings(labels)
	return m[1], labels
}

// dashboardExempt are the metrics the dashboard leaves out on purpose: the demo's own counters
// exist only in adofleet demo.
var dashboardExempt = regexp.MustCompile(`^adofleet_demo_`)

// TestGrafanaDashboardCoversMetrics keeps the dashboard in step with the code: a metric added to
// the code needs a panel (or an entry in dashboardExempt).
func TestGrafanaDashboardCoversMetrics(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	var all strings.Builder
	for _, p := range flattenPanels(d.Panels) {
		for _, tg := range p.Targets {
			all.WriteString(tg.Expr + "\n")
		}
	}
	used := map[string]bool{}
	for _, w := range identifier.FindAllString(all.String(), -1) {
		used[w] = true
	}
	for name, m := range scanMetrics(t) {
		if !strings.HasPrefix(name, "adofleet_") || dashboardExempt.MatchString(name) {
			continue
		}
		covered := used[name]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			covered = covered || used[name+suffix]
		}
		if !covered {
			t.Errorf("%s (%s) is on no panel of deploy/grafana/adofleet.json; add one, or exempt it in dashboardExempt", name, m.At)
		}
	}
}
