package scaling

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The CloudFormation template cannot be applied here; these tests check
// its structure, and that its roles allow every AWS call the code makes.

const (
	templatePath = "../deploy/aws/picpool.json"
	deployReadme = "../deploy/aws/README.md"
	sdkService   = "github.com/aws/aws-sdk-go-v2/service/"
)

// template is the parsed CloudFormation template.
type template struct {
	FormatVersion string                    `json:"AWSTemplateFormatVersion"`
	Parameters    map[string]map[string]any `json:"Parameters"`
	Resources     map[string]resource       `json:"Resources"`
	Outputs       map[string]map[string]any `json:"Outputs"`
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	DependsOn  any            `json:"DependsOn"`
}

func loadTemplate(t *testing.T) (template, any) {
	t.Helper()
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var tpl template
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("%s: %v", templatePath, err)
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return tpl, raw
}

// pseudoParameters are the Refs CloudFormation defines itself.
var pseudoParameters = []string{"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region",
	"AWS::StackId", "AWS::StackName", "AWS::URLSuffix", "AWS::NotificationARNs"}

// attributes are the GetAtt attributes of the resource types the template
// uses (from the CloudFormation reference).
var attributes = map[string][]string{
	"AWS::S3::Bucket":                    {"Arn", "DomainName", "RegionalDomainName"},
	"AWS::EC2::SecurityGroup":            {"GroupId", "VpcId"},
	"AWS::EC2::SecurityGroupIngress":     {"Id"},
	"AWS::IAM::Role":                     {"Arn", "RoleId"},
	"AWS::IAM::InstanceProfile":          {"Arn"},
	"AWS::EC2::LaunchTemplate":           {"LatestVersionNumber", "DefaultVersionNumber", "LaunchTemplateId"},
	"AWS::AutoScaling::AutoScalingGroup": {},
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// TestTemplateReferences checks that every Ref, Fn::GetAtt, Fn::Sub
// variable and DependsOn names a parameter, a resource (with that
// attribute) or a pseudo parameter.
func TestTemplateReferences(t *testing.T) {
	tpl, raw := loadTemplate(t)
	if tpl.FormatVersion != "2010-09-09" {
		t.Errorf("AWSTemplateFormatVersion = %q, want 2010-09-09", tpl.FormatVersion)
	}
	known := func(name string) bool {
		_, isParam := tpl.Parameters[name]
		_, isRes := tpl.Resources[name]
		return isParam || isRes || slices.Contains(pseudoParameters, name)
	}
	checkAtt := func(where, res, att string) {
		r, ok := tpl.Resources[res]
		if !ok {
			t.Errorf("%s: Fn::GetAtt of unknown resource %q", where, res)
			return
		}
		atts, ok := attributes[r.Type]
		if !ok {
			t.Errorf("%s: the test does not know the attributes of %s; add them", where, r.Type)
		} else if !slices.Contains(atts, att) {
			t.Errorf("%s: %s (%s) has no attribute %q", where, res, r.Type, att)
		}
	}
	var refs int
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if name, ok := v["Ref"].(string); ok && len(v) == 1 {
				refs++
				if !known(name) {
					t.Errorf("%s: Ref to unknown %q", where, name)
				}
			}
			if att, ok := v["Fn::GetAtt"]; ok && len(v) == 1 {
				refs++
				switch att := att.(type) {
				case []any:
					if len(att) != 2 {
						t.Errorf("%s: Fn::GetAtt %v, want [resource, attribute]", where, att)
						break
					}
					res, _ := att[0].(string)
					name, _ := att[1].(string)
					checkAtt(where, res, name)
				case string:
					res, name, _ := strings.Cut(att, ".")
					checkAtt(where, res, name)
				}
			}
			if sub, ok := v["Fn::Sub"]; ok && len(v) == 1 {
				refs++
				text, vars := sub, map[string]any{}
				if list, ok := sub.([]any); ok && len(list) == 2 {
					text = list[0]
					vars, _ = list[1].(map[string]any)
				}
				s, ok := text.(string)
				if !ok {
					t.Errorf("%s: Fn::Sub of a %T, want a string", where, text)
				}
				for _, m := range subVariable.FindAllStringSubmatch(s, -1) {
					name := m[1]
					if strings.HasPrefix(name, "!") {
						continue // ${!Literal}: written as is
					}
					if _, ok := vars[name]; ok {
						continue
					}
					if res, att, ok := strings.Cut(name, "."); ok {
						checkAtt(where, res, att)
					} else if !known(name) {
						t.Errorf("%s: Fn::Sub variable ${%s} names nothing", where, name)
					}
				}
			}
			for k, x := range v {
				walk(where+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(where+"["+strconv.Itoa(i)+"]", x)
			}
		}
	}
	walk("template", raw)
	if refs < 20 {
		t.Errorf("found %d references in the template; the walk is broken", refs)
	}
	for name, r := range tpl.Resources {
		var deps []string
		switch d := r.DependsOn.(type) {
		case string:
			deps = []string{d}
		case []any:
			for _, x := range d {
				s, _ := x.(string)
				deps = append(deps, s)
			}
		}
		for _, d := range deps {
			if _, ok := tpl.Resources[d]; !ok {
				t.Errorf("%s: DependsOn unknown resource %q", name, d)
			}
		}
	}
}

// TestTemplateResources checks the resources an operator relies on.
func TestTemplateResources(t *testing.T) {
	tpl, _ := loadTemplate(t)
	want := map[string]string{
		"NodeLaunchTemplate":     "AWS::EC2::LaunchTemplate",
		"NodeGroup":              "AWS::AutoScaling::AutoScalingGroup",
		"NodeSecurityGroup":      "AWS::EC2::SecurityGroup",
		"AppSecurityGroup":       "AWS::EC2::SecurityGroup",
		"NodeIngressFromApp":     "AWS::EC2::SecurityGroupIngress",
		"NodeDataIngressFromApp": "AWS::EC2::SecurityGroupIngress",
		"NodeRole":               "AWS::IAM::Role",
		"NodeInstanceProfile":    "AWS::IAM::InstanceProfile",
		"AppRole":                "AWS::IAM::Role",
		"AppInstanceProfile":     "AWS::IAM::InstanceProfile",
		"ImagesBucket":           "AWS::S3::Bucket",
	}
	for name, typ := range want {
		if got := tpl.Resources[name].Type; got != typ {
			t.Errorf("resource %s has type %q, want %q", name, got, typ)
		}
	}
	for _, p := range []string{"VpcId", "SubnetIds", "NodePort", "MetricsNamespace", "NodeTokenParameter", "ArtifactBucket"} {
		if _, ok := tpl.Parameters[p]; !ok {
			t.Errorf("parameter %s missing", p)
		}
	}
	for _, o := range []string{"NodeGroupName", "PoolFlag", "MetricsFlag", "ImagesBucketName", "AppInstanceProfileArn", "AppSecurityGroupId"} {
		if _, ok := tpl.Outputs[o]; !ok {
			t.Errorf("output %s missing", o)
		}
	}

	// The group: 1 to 8 nodes from the launch template, no fixed desired
	// capacity (a stack update would reset the autoscaler's size).
	g := tpl.Resources["NodeGroup"].Properties
	if g["MinSize"] != "1" || g["MaxSize"] != "8" {
		t.Errorf("NodeGroup sizes = %v..%v, want 1..8", g["MinSize"], g["MaxSize"])
	}
	if _, ok := g["DesiredCapacity"]; ok {
		t.Errorf("NodeGroup sets DesiredCapacity; a stack update would reset the pool's size")
	}
	if lt, _ := g["LaunchTemplate"].(map[string]any); !isRef(lt["LaunchTemplateId"], "NodeLaunchTemplate") {
		t.Errorf("NodeGroup's launch template = %v, want a Ref to NodeLaunchTemplate", g["LaunchTemplate"])
	}

	// The nodes' user data starts `picpool node` on both node ports, with
	// the token from SSM in its environment (never on its command line,
	// which every user of the instance can read) and CloudWatch metrics;
	// the downloads at boot are retried.
	data := tpl.Resources["NodeLaunchTemplate"].Properties["LaunchTemplateData"].(map[string]any)
	userData := flatten(data["UserData"])
	for _, s := range []string{
		"ExecStart=/usr/local/bin/picpool node --addr :${NodePort} --data-addr :${NodeDataPort} --metrics cloudwatch:${MetricsNamespace}\n",
		"token=$(retry aws ssm get-parameter --with-decryption --name '${NodeTokenParameter}'",
		"retry aws s3 cp 's3://${ArtifactBucket}/${ArtifactKey}' /usr/local/bin/picpool",
		"printf 'PICPOOL_NODE_TOKEN=%s",
		"EnvironmentFile=/etc/picpool/node.env",
		"systemctl enable --now picpool-node.service",
	} {
		if !strings.Contains(userData, s) {
			t.Errorf("user data lacks %q:\n%s", s, userData)
		}
	}
	if strings.Contains(userData, "--token") {
		t.Errorf("user data passes the token on the command line:\n%s", userData)
	}
	// New nodes are protected from scale in: the group may not pick a
	// serving node when its capacity goes down; the pool drains a node and
	// terminates that very one.
	if g["NewInstancesProtectedFromScaleIn"] != true {
		t.Errorf("NodeGroup's NewInstancesProtectedFromScaleIn = %v, want true", g["NewInstancesProtectedFromScaleIn"])
	}
	if !isGetAtt(data["IamInstanceProfile"].(map[string]any)["Arn"], "NodeInstanceProfile") {
		t.Errorf("launch template's instance profile = %v, want NodeInstanceProfile", data["IamInstanceProfile"])
	}

	// The nodes accept connections from the app's security group only.
	if _, ok := tpl.Resources["NodeSecurityGroup"].Properties["SecurityGroupIngress"]; ok {
		t.Errorf("NodeSecurityGroup has inline ingress rules; want only the rules from the app's group")
	}
	var ingress []string
	for name, r := range tpl.Resources {
		if r.Type != "AWS::EC2::SecurityGroupIngress" || !isGetAtt(r.Properties["GroupId"], "NodeSecurityGroup") {
			continue
		}
		ingress = append(ingress, name)
		if !isGetAtt(r.Properties["SourceSecurityGroupId"], "AppSecurityGroup") {
			t.Errorf("%s admits %v, want only AppSecurityGroup", name, r.Properties["SourceSecurityGroupId"])
		}
		if _, ok := r.Properties["CidrIp"]; ok {
			t.Errorf("%s admits a CIDR range; want only AppSecurityGroup", name)
		}
		from, to := r.Properties["FromPort"], r.Properties["ToPort"]
		if fmt.Sprint(from) != fmt.Sprint(to) || !(isRef(from, "NodePort") || isRef(from, "NodeDataPort")) {
			t.Errorf("%s opens %v-%v, want exactly NodePort or NodeDataPort", name, from, to)
		}
	}
	slices.Sort(ingress)
	if want := []string{"NodeDataIngressFromApp", "NodeIngressFromApp"}; !slices.Equal(ingress, want) {
		t.Errorf("ingress rules of NodeSecurityGroup = %v, want %v", ingress, want)
	}
}

// TestTemplateLint runs cfn-lint, which knows every resource type's
// properties and the values AWS accepts (it caught a security group
// description EC2 refuses, which made the stack roll back).
func TestTemplateLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed, so the template is not linted: install it with `pip install cfn-lint`")
	}
	out, err := exec.CommandContext(t.Context(), lint, "--format", "parseable", templatePath).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", templatePath, err, out)
	}
}

// TestTemplateAllowsEveryCall finds every AWS API call in the module's Go
// code (the SDK input structs and paginators it builds) and checks the app
// role allows each, that the node role allows what a node calls, and that
// the README lists them.
func TestTemplateAllowsEveryCall(t *testing.T) {
	calls, err := awsCalls("..")
	if err != nil {
		t.Fatal(err)
	}
	// The scan must see at least what this package calls; if it does not,
	// it is the scan that is broken.
	for _, c := range []string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity",
		"autoscaling:TerminateInstanceInAutoScalingGroup", "ec2:DescribeInstances",
		"cloudwatch:PutMetricData", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics"} {
		if !slices.Contains(calls, c) {
			t.Errorf("the scan of the code did not find %s (found %v)", c, calls)
		}
	}
	tpl, _ := loadTemplate(t)
	app := allowed(t, tpl, "AppRole")
	node := allowed(t, tpl, "NodeRole")
	readme, err := os.ReadFile(deployReadme)
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range calls {
		if !app.allows(action) {
			t.Errorf("AppRole does not allow %s, which the code calls", action)
		}
		if !strings.Contains(string(readme), action) {
			t.Errorf("%s does not list %s", deployReadme, action)
		}
	}
	if !node.allows("cloudwatch:PutMetricData") {
		t.Errorf("NodeRole does not allow cloudwatch:PutMetricData")
	}
	for _, action := range []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup", "s3:PutObject"} {
		if node.allows(action) {
			t.Errorf("NodeRole allows %s; nodes need only to publish metrics", action)
		}
	}
	// Changing a group is scoped to the node group, not to every group.
	for _, action := range []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup",
		"autoscaling:SetInstanceHealth", "autoscaling:SetInstanceProtection", "autoscaling:SuspendProcesses"} {
		for _, res := range app.resources(action) {
			if res == "*" || !strings.Contains(res, "autoScalingGroupName/${NodeGroup}") {
				t.Errorf("AppRole allows %s on %q, want only the node group", action, res)
			}
		}
	}
}

// policy is the Allow statements of a role's inline policies.
type policy []statement

type statement struct {
	actions   []string
	resources []string
}

func (p policy) allows(action string) bool { return len(p.resources(action)) > 0 }

// resources returns the resources of the statements allowing action (a
// Fn::Sub resource as its text).
func (p policy) resources(action string) []string {
	var out []string
	for _, s := range p {
		for _, a := range s.actions {
			// IAM actions are case-insensitive globs.
			if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
				out = append(out, s.resources...)
				break
			}
		}
	}
	return out
}

func allowed(t *testing.T, tpl template, role string) policy {
	t.Helper()
	r, ok := tpl.Resources[role]
	if !ok || r.Type != "AWS::IAM::Role" {
		t.Fatalf("no role %s", role)
	}
	var p policy
	policies, _ := r.Properties["Policies"].([]any)
	for _, x := range policies {
		doc, _ := x.(map[string]any)["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, sx := range stmts {
			s, _ := sx.(map[string]any)
			if s["Effect"] != "Allow" {
				continue
			}
			p = append(p, statement{actions: strings.Fields(flatten(s["Action"])), resources: strings.Fields(flatten(s["Resource"]))})
		}
	}
	if len(p) == 0 {
		t.Fatalf("role %s allows nothing", role)
	}
	return p
}

// flatten renders a template value as text: strings as they are, lists
// space-separated, Fn::Sub as its text, Fn::Join joined, a Ref as
// ${Name}, and a GetAtt as ${Resource.Attr}.
func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, x := range v {
			parts = append(parts, flatten(x))
		}
		return strings.Join(parts, " ")
	case map[string]any:
		switch {
		case v["Fn::Base64"] != nil:
			return flatten(v["Fn::Base64"])
		case v["Fn::Sub"] != nil:
			if list, ok := v["Fn::Sub"].([]any); ok {
				return flatten(list[0])
			}
			return flatten(v["Fn::Sub"])
		case v["Fn::Join"] != nil:
			list, _ := v["Fn::Join"].([]any)
			if len(list) != 2 {
				return ""
			}
			sep, _ := list[0].(string)
			items, _ := list[1].([]any)
			var parts []string
			for _, x := range items {
				parts = append(parts, flatten(x))
			}
			return strings.Join(parts, sep)
		case v["Ref"] != nil:
			return "${" + flatten(v["Ref"]) + "}"
		case v["Fn::GetAtt"] != nil:
			list, _ := v["Fn::GetAtt"].([]any)
			return "${" + strings.Join(strings.Fields(flatten(list)), ".") + "}"
		}
	}
	return ""
}

func isRef(v any, name string) bool {
	m, ok := v.(map[string]any)
	return ok && m["Ref"] == name
}

func isGetAtt(v any, res string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	list, ok := m["Fn::GetAtt"].([]any)
	return ok && len(list) == 2 && list[0] == res
}

// s3Actions maps S3 operations to the IAM actions that allow them; the
// other services' actions are named after their operations.
var s3Actions = map[string][]string{
	"GetObject": {"s3:GetObject"}, "HeadObject": {"s3:GetObject"},
	"PutObject": {"s3:PutObject"}, "CreateMultipartUpload": {"s3:PutObject"},
	"UploadPart": {"s3:PutObject"}, "CompleteMultipartUpload": {"s3:PutObject"},
	"AbortMultipartUpload": {"s3:AbortMultipartUpload"},
	"CopyObject":           {"s3:GetObject", "s3:PutObject"},
	"DeleteObject":         {"s3:DeleteObject"}, "DeleteObjects": {"s3:DeleteObject"},
	"ListObjectsV2": {"s3:ListBucket"}, "ListObjects": {"s3:ListBucket"}, "HeadBucket": {"s3:ListBucket"},
}

// awsCalls returns the IAM actions of every AWS operation the Go code
// under root calls (tests and the test-support packages, the AWS fake and
// storetest, left out), found syntactically:
// every SDK call takes a &<service>.<Operation>Input, and paginators are
// built with <service>.New<Operation>Paginator. Calls made inside other
// libraries (an S3 upload manager, say) are not seen.
func awsCalls(root string) ([]string, error) {
	fset := token.NewFileSet()
	found := map[string]bool{}
	var unknown []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "vendor", "node_modules", "awsfake", "storetest":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		services := map[string]string{} // import name → service
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			svc, ok := strings.CutPrefix(ip, sdkService)
			if !ok || strings.Contains(svc, "/") {
				continue
			}
			name := svc
			if imp.Name != nil {
				name = imp.Name.Name
			}
			services[name] = svc
		}
		op := func(e ast.Expr, prefix, suffix string) (string, string, bool) {
			sel, ok := e.(*ast.SelectorExpr)
			if !ok {
				return "", "", false
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return "", "", false
			}
			svc := services[id.Name]
			if svc == "" || !strings.HasPrefix(sel.Sel.Name, prefix) || !strings.HasSuffix(sel.Sel.Name, suffix) {
				return "", "", false
			}
			return svc, strings.TrimSuffix(strings.TrimPrefix(sel.Sel.Name, prefix), suffix), true
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var svc, name string
			var ok bool
			switch n := n.(type) {
			case *ast.CompositeLit:
				svc, name, ok = op(n.Type, "", "Input")
			case *ast.CallExpr:
				svc, name, ok = op(n.Fun, "New", "Paginator")
			}
			if !ok || name == "" {
				return true
			}
			if svc != "s3" {
				found[svc+":"+name] = true
				return true
			}
			actions, known := s3Actions[name]
			if !known {
				unknown = append(unknown, "s3 "+name+" in "+p)
			}
			for _, a := range actions {
				found[a] = true
			}
			return true
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("add the IAM actions of these S3 operations to s3Actions: %v", unknown)
	}
	var out []string
	for a := range found {
		out = append(out, a)
	}
	slices.Sort(out)
	return out, nil
}
