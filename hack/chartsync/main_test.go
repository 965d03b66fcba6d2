package main

import (
	"strings"
	"testing"
)

const crd = `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    controller-gen.kubebuilder.io/version: v0.23.0
  name: lakes.districtlake.io
spec:
  group: districtlake.io
`

func TestCRDTemplateWrapsAndKeeps(t *testing.T) {
	out, err := CRDTemplate("config/crd/bases/x.yaml", []byte(crd))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"{{- if .Values.crds.install }}\napiVersion: apiextensions.k8s.io/v1\n",
		"  annotations:\n    {{- if .Values.crds.keep }}\n    helm.sh/resource-policy: keep\n    {{- end }}\n    controller-gen.kubebuilder.io/version: v0.23.0\n",
		"  labels:\n    {{- include \"districtlake.labels\" . | nindent 4 }}\n  name: lakes.districtlake.io\n",
		"  group: districtlake.io\n{{- end }}\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the template lacks %q:\n%s", want, s)
		}
	}

	// A CRD without annotations gets them for the keep policy.
	bare := strings.Replace(crd, "  annotations:\n    controller-gen.kubebuilder.io/version: v0.23.0\n", "", 1)
	out, err = CRDTemplate("x", []byte(bare))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "  {{- if .Values.crds.keep }}\n  annotations:\n    helm.sh/resource-policy: keep\n  {{- end }}\n") {
		t.Errorf("no keep annotation on a CRD without annotations:\n%s", out)
	}
}

func TestCRDTemplateRejectsTemplateActions(t *testing.T) {
	_, err := CRDTemplate("x", []byte(strings.Replace(crd, "group: districtlake.io", "group: '{{ oops }}'", 1)))
	if err == nil || !strings.Contains(err.Error(), "{{") {
		t.Errorf("err = %v; want a refusal naming '{{'", err)
	}
}

func TestRoleTemplate(t *testing.T) {
	role := `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: manager
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [watch, get]
`
	r := roleFile{src: "config/rbac/role.yaml", kind: "ClusterRole", suffix: "manager", cond: ".Values.rbac.create", how: "h", about: "a"}
	out, err := RoleTemplate(r, []byte(role))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "kind: ClusterRole\n") || !strings.Contains(string(out), "  verbs:\n  - get\n  - watch\n") ||
		!strings.Contains(string(out), "{{- if .Values.rbac.create }}") {
		t.Errorf("unexpected template (want the rules with sorted verbs under rbac.create):\n%s", out)
	}
	r.kind = "Role"
	if _, err := RoleTemplate(r, []byte(role)); err == nil {
		t.Errorf("a ClusterRole was accepted where a Role was expected")
	}
	if _, err := RoleTemplate(roleFile{kind: "ClusterRole"}, []byte(role+"---\n"+role)); err == nil {
		t.Errorf("two ClusterRoles were accepted")
	}
}
