package chart_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

var crdNames = []string{"districtsources.districtlake.io", "lakes.districtlake.io", "sharedsources.districtlake.io", "statecomparisons.districtlake.io"}

func TestHelmLint(t *testing.T) {
	for _, c := range combinations {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"lint", chartDir(t), "--strict", "--kube-version", kubeVersion, "--namespace", releaseNamespace}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			out, err := helm(t, args...)
			if err != nil {
				t.Fatalf("helm lint failed: %v", err)
			}
			if strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
				t.Errorf("helm lint reported problems:\n%s", out)
			}
		})
	}
}

// manager returns the rendered manager Deployment's pod spec and its container.
func manager(t *testing.T, objs map[string]*unstructured.Unstructured) (map[string]any, map[string]any) {
	t.Helper()
	d := objs["Deployment/districtlake-manager"]
	if d == nil {
		t.Fatalf("no Deployment/districtlake-manager among %v", kinds(objs))
	}
	pod, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	containers, _, _ := unstructured.NestedSlice(pod, "containers")
	if len(containers) != 1 {
		t.Fatalf("manager Deployment has %d containers, want 1", len(containers))
	}
	return pod, containers[0].(map[string]any)
}

func args(c map[string]any) []string {
	a, _, _ := unstructured.NestedStringSlice(c, "args")
	return a
}

func TestTemplateDefaults(t *testing.T) {
	_, objs := render(t, combinations[0])
	for _, k := range []string{"ServiceAccount/districtlake", "ClusterRole/districtlake-manager", "ClusterRoleBinding/districtlake-manager",
		"Role/districtlake-leader-election", "RoleBinding/districtlake-leader-election", "Service/districtlake-metrics", "Deployment/districtlake-manager"} {
		if objs[k] == nil {
			t.Errorf("missing %s; rendered %v", k, kinds(objs))
		}
	}
	for _, n := range crdNames {
		crd := objs["CustomResourceDefinition/"+n]
		if crd == nil {
			t.Errorf("CRD %s is not rendered although crds.install defaults to true", n)
			continue
		}
		if got := crd.GetAnnotations()["helm.sh/resource-policy"]; got != "keep" {
			t.Errorf("CRD %s has helm.sh/resource-policy %q, want keep (crds.keep defaults to true)", n, got)
		}
	}
	for k := range objs {
		if strings.HasPrefix(k, "ServiceMonitor/") {
			t.Errorf("%s rendered although serviceMonitor.enabled defaults to false", k)
		}
	}

	pod, c := manager(t, objs)
	if got := c["image"]; got != "ghcr.io/districtlake/districtlake:0.1.0" {
		t.Errorf("manager image = %v, want the chart's appVersion tag", got)
	}
	a := args(c)
	for _, want := range []string{"manager", "--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080",
		"--job-image=ghcr.io/districtlake/districtlake:0.1.0", "--job-image-pull-policy=IfNotPresent"} {
		if !slices.Contains(a, want) {
			t.Errorf("manager args %v lack %s", a, want)
		}
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		port, _, _ := unstructured.NestedFieldNoCopy(c, probe, "httpGet", "port")
		if port != "health" {
			t.Errorf("%s port = %v, want the health port", probe, port)
		}
	}
	ports, _, _ := unstructured.NestedSlice(c, "ports")
	if !hasPort(ports, "health", 8081) || !hasPort(ports, "metrics", 8080) {
		t.Errorf("manager ports = %v, want health 8081 and metrics 8080", ports)
	}
	if _, ok, _ := unstructured.NestedString(c, "resources", "limits", "memory"); !ok {
		t.Errorf("manager has no memory limit: %v", c["resources"])
	}
	// The restricted Pod Security Standard, field by field (the dry run checks it as well).
	if v, _, _ := unstructured.NestedBool(pod, "securityContext", "runAsNonRoot"); !v {
		t.Errorf("pod securityContext.runAsNonRoot is not true")
	}
	if v, _, _ := unstructured.NestedString(pod, "securityContext", "seccompProfile", "type"); v != "RuntimeDefault" {
		t.Errorf("pod seccompProfile = %q, want RuntimeDefault", v)
	}
	if v, ok, _ := unstructured.NestedBool(c, "securityContext", "allowPrivilegeEscalation"); !ok || v {
		t.Errorf("container allowPrivilegeEscalation is not false")
	}
	if v, _, _ := unstructured.NestedBool(c, "securityContext", "readOnlyRootFilesystem"); !v {
		t.Errorf("container readOnlyRootFilesystem is not true")
	}
	if v, _, _ := unstructured.NestedStringSlice(c, "securityContext", "capabilities", "drop"); !slices.Equal(v, []string{"ALL"}) {
		t.Errorf("container capabilities.drop = %v, want [ALL]", v)
	}

	svc := objs["Service/districtlake-metrics"]
	sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	podLabels, _, _ := unstructured.NestedStringMap(objs["Deployment/districtlake-manager"].Object, "spec", "template", "metadata", "labels")
	for k, v := range sel {
		if podLabels[k] != v {
			t.Errorf("metrics Service selects %s=%s, which the manager's pods do not carry (%v)", k, v, podLabels)
		}
	}
}

func hasPort(ports []any, name string, port int64) bool {
	for _, p := range ports {
		m := p.(map[string]any)
		if m["name"] == name && fmt.Sprint(m["containerPort"]) == fmt.Sprint(port) {
			return true
		}
	}
	return false
}

func TestTemplateCRDsNotInstalled(t *testing.T) {
	_, objs := render(t, combination{name: "crds-not-installed", set: []string{"crds.install=false"}})
	for k := range objs {
		if strings.HasPrefix(k, "CustomResourceDefinition/") {
			t.Errorf("%s rendered with crds.install=false", k)
		}
	}
	if objs["Deployment/districtlake-manager"] == nil {
		t.Errorf("the manager is missing with crds.install=false")
	}
}

func TestTemplateCRDsNotKept(t *testing.T) {
	_, objs := render(t, combination{name: "crds-not-kept", set: []string{"crds.keep=false"}})
	for _, n := range crdNames {
		crd := objs["CustomResourceDefinition/"+n]
		if crd == nil {
			t.Fatalf("CRD %s missing", n)
		}
		if _, ok := crd.GetAnnotations()["helm.sh/resource-policy"]; ok {
			t.Errorf("CRD %s keeps helm.sh/resource-policy with crds.keep=false", n)
		}
	}
}

func TestTemplateServiceMonitor(t *testing.T) {
	_, objs := render(t, combination{name: "service-monitor", set: []string{"serviceMonitor.enabled=true", "serviceMonitor.labels.release=prometheus", "serviceMonitor.interval=1m"}})
	sm := objs["ServiceMonitor/districtlake"]
	if sm == nil {
		t.Fatalf("no ServiceMonitor with serviceMonitor.enabled=true; rendered %v", kinds(objs))
	}
	if sm.GetAPIVersion() != "monitoring.coreos.com/v1" {
		t.Errorf("ServiceMonitor apiVersion = %s", sm.GetAPIVersion())
	}
	if sm.GetLabels()["release"] != "prometheus" {
		t.Errorf("ServiceMonitor labels %v lack release=prometheus", sm.GetLabels())
	}
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(eps) != 1 || eps[0].(map[string]any)["port"] != "metrics" || eps[0].(map[string]any)["interval"] != "1m" {
		t.Errorf("ServiceMonitor endpoints = %v, want the metrics port every 1m", eps)
	}
	if ep := eps[0].(map[string]any); ep["scheme"] != "https" || ep["bearerTokenFile"] == nil {
		t.Errorf("ServiceMonitor endpoint = %v, want https with the scraper's token (metrics.secure is on by default)", ep)
	}
	if objs["ClusterRole/districtlake-metrics-reader"] == nil {
		t.Errorf("no ClusterRole/districtlake-metrics-reader for the scraper; rendered %v", kinds(objs))
	}
	_, plain := render(t, combination{name: "service-monitor-plain", set: []string{"serviceMonitor.enabled=true", "metrics.secure=false"}})
	_, pc := manager(t, plain)
	if pe, _, _ := unstructured.NestedSlice(plain["ServiceMonitor/districtlake"].Object, "spec", "endpoints"); len(pe) != 1 ||
		pe[0].(map[string]any)["scheme"] != "http" || !slices.Contains(args(pc), "--metrics-secure=false") {
		t.Errorf("metrics.secure=false: endpoints %v, manager args %v; want plain http and --metrics-secure=false", pe, args(pc))
	}
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	svcLabels := objs["Service/districtlake-metrics"].GetLabels()
	for k, v := range sel {
		if svcLabels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, which the metrics Service does not carry (%v)", k, v, svcLabels)
		}
	}
}

func TestTemplateCustomImage(t *testing.T) {
	_, objs := render(t, combination{name: "custom-image", set: []string{"image.repository=localhost/districtlake", "image.tag=dev", "image.pullPolicy=Never"}})
	_, c := manager(t, objs)
	if c["image"] != "localhost/districtlake:dev" || c["imagePullPolicy"] != "Never" {
		t.Errorf("manager image = %v (%v), want localhost/districtlake:dev (Never)", c["image"], c["imagePullPolicy"])
	}
	a := args(c)
	if !slices.Contains(a, "--job-image=localhost/districtlake:dev") || !slices.Contains(a, "--job-image-pull-policy=Never") {
		t.Errorf("manager args %v do not hand the custom image and pull policy to its Jobs", a)
	}
}

func TestTemplateExistingServiceAccount(t *testing.T) {
	_, objs := render(t, combination{name: "existing-service-account", set: []string{"serviceAccount.create=false", "serviceAccount.name=districtlake-sa", "rbac.create=false", "leaderElection.enabled=false"}})
	for k := range objs {
		if strings.HasPrefix(k, "ServiceAccount/") || strings.Contains(k, "Role") {
			t.Errorf("%s rendered with serviceAccount.create=false and rbac.create=false", k)
		}
	}
	pod, c := manager(t, objs)
	if pod["serviceAccountName"] != "districtlake-sa" {
		t.Errorf("serviceAccountName = %v, want districtlake-sa", pod["serviceAccountName"])
	}
	if slices.Contains(args(c), "--leader-elect") {
		t.Errorf("--leader-elect passed with leaderElection.enabled=false")
	}
}

func TestValuesSchemaRejectsMistypedValues(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string // in helm's message
	}{
		{"unknown top-level key", []string{"--set", "imagePullPolicy=Never"}, "additional properties 'imagePullPolicy' not allowed"},
		{"misspelt nested key", []string{"--set", "crds.instal=false"}, "additional properties 'instal' not allowed"},
		{"pull policy not in the enum", []string{"--set", "image.pullPolicy=Sometimes"}, "/image/pullPolicy"},
		{"string for a boolean", []string{"--set-string", "crds.install=no"}, "/crds/install"},
		{"string for an integer", []string{"--set", "replicaCount=two"}, "/replicaCount"},
		{"port out of range", []string{"--set", "metrics.port=70000"}, "/metrics/port"},
		{"bad memory quantity", []string{"--set", "resources.limits.memory=lots"}, "/resources/limits/memory"},
		{"bad scrape interval", []string{"--set", "serviceMonitor.interval=often"}, "/serviceMonitor/interval"},
		{"unknown log level", []string{"--set", "logLevel=verbose"}, "/logLevel"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := helm(t, append(templateArgs(t, combination{}), tc.args...)...)
			if err == nil {
				t.Fatalf("helm template %v succeeded; want the values schema to reject it\n%.300s", tc.args, out)
			}
			msg := err.Error()
			if !strings.Contains(msg, "values don't meet the specifications of the schema") || !strings.Contains(msg, tc.want) {
				t.Errorf("helm template %v failed without a schema message naming %q:\n%s", tc.args, tc.want, msg)
			}
		})
	}
}

// TestChartCRDsMatchConfig: the chart installs exactly the CRDs in config/crd/bases
// (make chart-crds keeps them in sync; make verify catches drift in the files).
func TestChartCRDsMatchConfig(t *testing.T) {
	_, objs := render(t, combinations[0])
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "config", "crd", "bases", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no CRDs in config/crd/bases")
	}
	rendered := 0
	for k := range objs {
		if strings.HasPrefix(k, "CustomResourceDefinition/") {
			rendered++
		}
	}
	if rendered != len(files) {
		t.Errorf("the chart renders %d CRDs, config/crd/bases has %d: run make chart-crds", rendered, len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want unstructured.Unstructured
		if err := yaml.Unmarshal(data, &want.Object); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got := objs["CustomResourceDefinition/"+want.GetName()]
		if got == nil {
			t.Errorf("the chart lacks CRD %s (from %s): run make chart-crds", want.GetName(), filepath.Base(f))
			continue
		}
		if !reflect.DeepEqual(got.Object["spec"], want.Object["spec"]) {
			t.Errorf("the chart's CRD %s differs from %s: run make chart-crds", want.GetName(), filepath.Base(f))
		}
	}
}

// TestChartRBACMatchesConfig: the chart's manager ClusterRole has exactly the rules that
// controller-gen generates into config/rbac/role.yaml, and its leader-election Role those of
// config/rbac/leader_election_role.yaml (make chart-sync keeps them in sync).
func TestChartRBACMatchesConfig(t *testing.T) {
	_, objs := render(t, combinations[0])
	for _, tc := range []struct{ file, rendered string }{
		{"role.yaml", "ClusterRole/districtlake-manager"},
		{"leader_election_role.yaml", "Role/districtlake-leader-election"},
	} {
		path := filepath.Join(repoRoot(t), "config", "rbac", tc.file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading the RBAC in config/: %v (run make manifests)", err)
		}
		var want rbacv1.ClusterRole
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var got rbacv1.ClusterRole
		u := objs[tc.rendered]
		if u == nil {
			t.Fatalf("no %s; rendered %v", tc.rendered, kinds(objs))
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &got); err != nil {
			t.Fatal(err)
		}
		if g, w := ruleSet(got.Rules), ruleSet(want.Rules); !slices.Equal(g, w) {
			t.Errorf("the chart's %s differs from config/rbac/%s (run make chart-sync):\nchart:  %v\nconfig: %v", tc.rendered, tc.file, g, w)
		}
	}
}

// ruleSet flattens rules to sorted "group/resource/name:verb" strings.
func ruleSet(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{"*"}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					for _, v := range r.Verbs {
						out = append(out, g+"/"+res+"/"+n+":"+v)
					}
				}
			}
		}
		for _, u := range r.NonResourceURLs {
			for _, v := range r.Verbs {
				out = append(out, "url:"+u+":"+v)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestTemplatePrometheusRuleAndConcurrency(t *testing.T) {
	_, objs := render(t, combination{name: "prometheus-rule", set: []string{"prometheusRule.enabled=true", "prometheusRule.stalePeriods=3",
		"controller.concurrency.districtSource=24", "controller.kubeAPIQPS=100", "controller.kubeAPIBurst=200",
		"jobs.queueName=district-runs"}})
	pr := objs["PrometheusRule/districtlake"]
	if pr == nil {
		t.Fatalf("no PrometheusRule with prometheusRule.enabled=true; rendered %v", kinds(objs))
	}
	groups, _, _ := unstructured.NestedSlice(pr.Object, "spec", "groups")
	if len(groups) != 1 {
		t.Fatalf("PrometheusRule groups = %v", groups)
	}
	rules := groups[0].(map[string]any)["rules"].([]any)
	stale := rules[0].(map[string]any)
	expr := fmt.Sprint(stale["expr"])
	// The rule reads the series the manager exports (internal/controller/freshness.go).
	for _, want := range []string{"districtlake_last_success_timestamp_seconds", "districtlake_created_timestamp_seconds",
		"> 3 * max by (kind, namespace, name, state) (districtlake_schedule_period_seconds)"} {
		if !strings.Contains(expr, want) {
			t.Errorf("stale alert expr %q lacks %q", expr, want)
		}
	}
	_, c := manager(t, objs)
	for _, want := range []string{"--concurrent-districtsource-reconciles=24", "--concurrent-statecomparison-reconciles=2",
		"--kube-api-qps=100", "--kube-api-burst=200", "--job-queue-name=district-runs"} {
		if !slices.Contains(args(c), want) {
			t.Errorf("manager args %v lack %s", args(c), want)
		}
	}
	_, defaults := render(t, combinations[0])
	for k := range defaults {
		if strings.HasPrefix(k, "PrometheusRule/") {
			t.Errorf("%s rendered although prometheusRule.enabled defaults to false", k)
		}
	}
	_, dc := manager(t, defaults)
	for _, a := range args(dc) {
		if strings.HasPrefix(a, "--kube-api-qps") || strings.HasPrefix(a, "--job-queue-name") {
			t.Errorf("default manager args set %s; client-side throttling is off by default", a)
		}
	}
}

// TestTemplateAllowedJobImages: the admin's allow-list reaches the manager as one flag, and
// the defaults pass none (no resource may choose its image).
func TestTemplateAllowedJobImages(t *testing.T) {
	_, objs := render(t, combinations[0])
	_, c := manager(t, objs)
	for _, a := range args(c) {
		if strings.HasPrefix(a, "--allowed-job-images") {
			t.Errorf("defaults pass %s; want no allowed images", a)
		}
	}
	_, objs = render(t, combination{name: "allowed-images", set: []string{"jobs.allowedImages={registry.example/districtlake:*,registry.example/tools:1}"}})
	_, c = manager(t, objs)
	if want := "--allowed-job-images=registry.example/districtlake:*,registry.example/tools:1"; !slices.Contains(args(c), want) {
		t.Errorf("manager args %v lack %s", args(c), want)
	}
	if _, err := helm(t, templateArgs(t, combination{set: []string{"jobs.allowedImages={registry.example/*/x}"}})...); err == nil || !strings.Contains(err.Error(), "allowedImages") {
		t.Errorf("the schema accepted an allowed image with '*' inside it: %v", err)
	}
}

// TestTemplateNamespacedRBAC: rbac.namespaced grants the manager's rules through a
// RoleBinding in each watched namespace and no ClusterRoleBinding, and the manager watches
// only those namespaces.
func TestTemplateNamespacedRBAC(t *testing.T) {
	_, objs := render(t, combination{name: "namespaced", set: []string{"rbac.namespaced=true", "watchNamespaces={district-a,district-b}"}})
	if objs["ClusterRoleBinding/districtlake-manager"] != nil {
		t.Error("rbac.namespaced rendered the manager's ClusterRoleBinding")
	}
	for _, ns := range []string{"district-a", "district-b"} {
		rb := objs["RoleBinding/"+ns+"/districtlake-manager"]
		if rb == nil {
			t.Fatalf("no RoleBinding in %s; rendered %v", ns, kinds(objs))
		}
		kind, _, _ := unstructured.NestedString(rb.Object, "roleRef", "kind")
		name, _, _ := unstructured.NestedString(rb.Object, "roleRef", "name")
		if kind != "ClusterRole" || name != "districtlake-manager" {
			t.Errorf("RoleBinding in %s binds %s %s", ns, kind, name)
		}
	}
	crb := objs["ClusterRoleBinding/districtlake-metrics-auth"]
	cr := objs["ClusterRole/districtlake-metrics-auth"]
	if crb == nil || cr == nil {
		t.Fatalf("no metrics-auth ClusterRole and binding for metrics.secure; rendered %v", kinds(objs))
	}
	var role rbacv1.ClusterRole
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(cr.Object, &role); err != nil {
		t.Fatal(err)
	}
	if got := ruleSet(role.Rules); !slices.Equal(got, []string{"authentication.k8s.io/tokenreviews/*:create", "authorization.k8s.io/subjectaccessreviews/*:create"}) {
		t.Errorf("the cluster-wide rules of the namespaced mode are %v; want only token and access reviews", got)
	}
	_, c := manager(t, objs)
	if !slices.Contains(args(c), "--watch-namespaces=district-a,district-b") {
		t.Errorf("manager args %v do not limit it to the watched namespaces", args(c))
	}

	// The defaults: one ClusterRoleBinding, no RoleBinding, all namespaces watched.
	_, objs = render(t, combinations[0])
	if objs["ClusterRoleBinding/districtlake-manager"] == nil {
		t.Error("the defaults have no manager ClusterRoleBinding")
	}
	for k := range objs {
		if strings.HasPrefix(k, "RoleBinding/") && strings.HasSuffix(k, "/districtlake-manager") {
			t.Errorf("the defaults render %s", k)
		}
	}
	_, c = manager(t, objs)
	for _, a := range args(c) {
		if strings.HasPrefix(a, "--watch-namespaces") {
			t.Errorf("the defaults pass %s", a)
		}
	}
	if _, err := helm(t, templateArgs(t, combination{set: []string{"rbac.namespaced=true"}})...); err == nil || !strings.Contains(err.Error(), "rbac.namespaced needs watchNamespaces") {
		t.Errorf("rbac.namespaced without watchNamespaces: %v", err)
	}
}

// TestTemplateJobNetworkPolicy: off by default; when on, one NetworkPolicy per namespace
// selects the ingest, compare and land (SharedSource) Job pods, denies ingress and allows egress to DNS and to
// the public IPv4 space less the private ranges.
func TestTemplateJobNetworkPolicy(t *testing.T) {
	_, objs := render(t, combinations[0])
	for k := range objs {
		if strings.HasPrefix(k, "NetworkPolicy/") {
			t.Errorf("the defaults render %s", k)
		}
	}
	_, objs = render(t, combination{name: "np", set: []string{"jobs.networkPolicy.enabled=true", "watchNamespaces={district-a,district-b}"}})
	for _, ns := range []string{"district-a", "district-b"} {
		u := objs["NetworkPolicy/"+ns+"/districtlake-jobs"]
		if u == nil {
			t.Fatalf("no NetworkPolicy in %s; rendered %v", ns, kinds(objs))
		}
		var np networkingv1.NetworkPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &np); err != nil {
			t.Fatal(err)
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"ingest", "compare", "land"} {
			if !sel.Matches(labels.Set{"app.kubernetes.io/managed-by": "districtlake", "app.kubernetes.io/component": c, "app.kubernetes.io/name": "districtlake"}) {
				t.Errorf("the NetworkPolicy does not select %s Job pods", c)
			}
		}
		if sel.Matches(labels.Set{"app.kubernetes.io/name": "districtlake", "app.kubernetes.io/instance": "districtlake"}) {
			t.Error("the NetworkPolicy selects the manager's pods")
		}
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) || len(np.Spec.Ingress) != 0 {
			t.Errorf("policy types %v, ingress %v: want all ingress denied", np.Spec.PolicyTypes, np.Spec.Ingress)
		}
		if len(np.Spec.Egress) != 2 || len(np.Spec.Egress[0].Ports) != 2 || np.Spec.Egress[0].Ports[0].Port.IntValue() != 53 {
			t.Fatalf("egress %+v: want DNS, then the address blocks", np.Spec.Egress)
		}
		block := np.Spec.Egress[1].To[0].IPBlock
		if block == nil || block.CIDR != "0.0.0.0/0" || !slices.Contains(block.Except, "10.0.0.0/8") || !slices.Contains(block.Except, "169.254.0.0/16") {
			t.Errorf("egress block %+v: want 0.0.0.0/0 less the private and link-local ranges", block)
		}
	}
}

func TestTemplateEgress(t *testing.T) {
	_, objs := render(t, combination{name: "egress-defaults"})
	_, c := manager(t, objs)
	if a := args(c); !slices.Contains(a, "--egress-allow-private=false") {
		t.Errorf("manager args %v do not refuse private addresses by default", a)
	}
	_, objs = render(t, combination{name: "egress-allowed", set: []string{"egress.allowCIDRs={10.20.0.0/16,192.168.7.0/24}", "egress.allowHosts={minio.storage.svc.cluster.local}"}})
	_, c = manager(t, objs)
	a := args(c)
	for _, want := range []string{"--egress-allow-private=false", "--egress-allow-cidrs=10.20.0.0/16,192.168.7.0/24", "--egress-allow-hosts=minio.storage.svc.cluster.local"} {
		if !slices.Contains(a, want) {
			t.Errorf("manager args %v lack %s", a, want)
		}
	}
}

// exportedMetrics are the districtlake_* metric names the manager exports (its freshness
// collector and counters), read from their source.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range []string{"freshness.go", "metrics.go"} {
		src, err := os.ReadFile(filepath.Join(repoRoot(t), "internal", "controller", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricName.FindAllString(string(src), -1) {
			out[m] = true
		}
	}
	return out
}

var metricName = regexp.MustCompile(`districtlake_[a-z_]+[a-z]`)

// expectExported fails for every districtlake_* name in expr that the manager does not export.
func expectExported(t *testing.T, where, expr string, exported map[string]bool) {
	t.Helper()
	for _, m := range metricName.FindAllString(expr, -1) {
		if !exported[m] {
			t.Errorf("%s reads %s, which the manager does not export", where, m)
		}
	}
}

// TestTemplatePrometheusRuleSharedSource: the rule alerts on a SharedSource whose file cannot
// be fetched (Ready=False without being stalled), after sharedSourceFailingFor, and every
// alert reads only series the manager exports.
func TestTemplatePrometheusRuleSharedSource(t *testing.T) {
	_, objs := render(t, combination{name: "prometheus-rule", set: []string{"prometheusRule.enabled=true", "prometheusRule.sharedSourceFailingFor=30m"}})
	pr := objs["PrometheusRule/districtlake"]
	if pr == nil {
		t.Fatalf("no PrometheusRule with prometheusRule.enabled=true; rendered %v", kinds(objs))
	}
	groups, _, _ := unstructured.NestedSlice(pr.Object, "spec", "groups")
	exported := exportedMetrics(t)
	var failing map[string]any
	for _, g := range groups {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			rule := r.(map[string]any)
			expectExported(t, fmt.Sprint(rule["alert"]), fmt.Sprint(rule["expr"]), exported)
			if rule["alert"] == "DistrictLakeSharedSourceFailing" {
				failing = rule
			}
		}
	}
	if failing == nil {
		t.Fatalf("no DistrictLakeSharedSourceFailing alert in %v", groups)
	}
	expr := fmt.Sprint(failing["expr"])
	for _, want := range []string{`districtlake_status_condition{kind="SharedSource",type="Ready",status="False"} == 1`,
		`unless on (kind, namespace, name)`, `districtlake_status_condition{kind="SharedSource",type="Stalled",status="True"}`} {
		if !strings.Contains(expr, want) {
			t.Errorf("DistrictLakeSharedSourceFailing expr %q lacks %q", expr, want)
		}
	}
	if failing["for"] != "30m" {
		t.Errorf("DistrictLakeSharedSourceFailing for = %v, want 30m (prometheusRule.sharedSourceFailingFor)", failing["for"])
	}
	summary, _, _ := unstructured.NestedString(failing, "annotations", "summary")
	if summary != "SharedSource {{ $labels.namespace }}/{{ $labels.name }} cannot be fetched ({{ $labels.reason }})" {
		t.Errorf("DistrictLakeSharedSourceFailing summary = %q: Prometheus templates must reach the rule unrendered by helm", summary)
	}
}

// TestTemplateGrafanaDashboard: grafanaDashboard.enabled renders the dashboard in a ConfigMap
// with the label Grafana's sidecar selects, as valid dashboard JSON whose panels show
// freshness, failures, rows written and run durations from series the manager exports; the
// defaults render none.
func TestTemplateGrafanaDashboard(t *testing.T) {
	_, objs := render(t, combination{name: "grafana-dashboard", set: []string{"grafanaDashboard.enabled=true", "prometheusRule.stalePeriods=3",
		"grafanaDashboard.annotations.grafana_folder=Schools"}})
	cm := objs["ConfigMap/districtlake-dashboard"]
	if cm == nil {
		t.Fatalf("no ConfigMap/districtlake-dashboard with grafanaDashboard.enabled=true; rendered %v", kinds(objs))
	}
	if got := cm.GetLabels()["grafana_dashboard"]; got != "1" {
		t.Errorf("dashboard ConfigMap label grafana_dashboard = %q, want \"1\" (the sidecar's default)", got)
	}
	if got := cm.GetAnnotations()["grafana_folder"]; got != "Schools" {
		t.Errorf("dashboard ConfigMap annotation grafana_folder = %q, want Schools", got)
	}
	raw, _, _ := unstructured.NestedString(cm.Object, "data", "districtlake.json")
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(raw), &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if dash.Title != "districtlake" || dash.UID != "districtlake" {
		t.Errorf("dashboard title, uid = %q, %q", dash.Title, dash.UID)
	}
	for _, v := range dash.Templating.List {
		if v.Name == "stalePeriods" && v.Query != "3" {
			t.Errorf("dashboard stalePeriods = %v, want 3 (prometheusRule.stalePeriods)", v.Query)
		}
	}
	exported := exportedMetrics(t)
	titles := map[string]bool{}
	for _, p := range dash.Panels {
		titles[p.Title] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			expectExported(t, "panel "+p.Title, q.Expr, exported)
		}
	}
	for _, want := range []string{"Freshness: time since the last successful run", "Failures per hour",
		"Rows written by the last successful run, by dataset", "Run duration", "Shared sources"} {
		if !titles[want] {
			t.Errorf("the dashboard has no panel %q; it has %v", want, titles)
		}
	}

	_, elsewhere := render(t, combination{name: "grafana-namespace", set: []string{"grafanaDashboard.enabled=true", "grafanaDashboard.namespace=monitoring"}})
	if elsewhere["ConfigMap/monitoring/districtlake-dashboard"] == nil {
		t.Errorf("grafanaDashboard.namespace=monitoring did not put the dashboard there; rendered %v", kinds(elsewhere))
	}
	_, defaults := render(t, combinations[0])
	if defaults["ConfigMap/districtlake-dashboard"] != nil {
		t.Error("the dashboard rendered although grafanaDashboard.enabled defaults to false")
	}
}
