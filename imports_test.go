package main

import (
	"cmp"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// importRules are the layering rules of ARCHITECTURE.md: a package whose
// path (relative to the module) is the key, or is below it, may import
// only the listed project packages: a path names that package, and
// "path/..." it and every package below it. The most specific key
// applies; the root package, the composition root, may import anything.
var importRules = map[string][]string{
	"cache":           {}, // the engines: standard library only
	"cache/partition": {},
	"cache/nodekey":   {},
	"cache/node":      {"cache", "cache/partition", "cache/nodekey", "cache/memproto", "cache/mrc"},
	"cache/pool":      {"cache", "cache/node", "cache/partition", "cache/nodekey", "cache/mrc"},
	"cache/sim":       {"cache"},
	"cache/mrc":       {"cache", "cache/partition", "cache/sim"},
	"cache/memproto":  {"cache"},
	"photo":           {"internal/bytesize"},
	"scaling":         {},
	"gallery":         {"cache", "cache/node", "cache/pool", "cache/mrc", "photo", "scaling", "internal/bytesize"},
	"store":           {"gallery", "cache/pool", "scaling", "store/..."},
	"handlers":        {"gallery", "views", "assets", "cache", "scaling", "photo", "internal/bytesize", "cache/node"},
	"views":           {"assets", "internal/bytesize"},
	"assets":          {},
	"loadgen":         {"assets", "internal/bytesize"}, // an outside client over HTTP
	"internal":        {},                              // shared helpers and test support (internal/awsfake): nothing of the project
}

// testSupport are the packages only tests import: no package's own code,
// the root's included, may.
var testSupport = []string{"internal/awsfake", "internal/tcpproxy", "internal/testimg"}

// importViolations returns one line per import that breaks importRules or
// testSupport. imports maps each package path to its imports (its tests'
// left out); mod is the module path.
func importViolations(mod string, imports map[string][]string) []string {
	var bad []string
	for pkg, imps := range imports {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, mod), "/")
		for _, imp := range imps {
			if dep, ok := strings.CutPrefix(imp, mod+"/"); ok && slices.Contains(testSupport, dep) {
				bad = append(bad, cmp.Or(rel, "main")+" imports test support "+dep)
			}
		}
		allowed, ruled := rulesOf(rel)
		if !ruled {
			continue
		}
		for _, imp := range imps {
			dep, ok := strings.CutPrefix(imp, mod+"/")
			if ok && !slices.ContainsFunc(allowed, func(a string) bool { return allows(a, dep) }) {
				bad = append(bad, rel+" imports "+dep)
			}
		}
	}
	slices.Sort(bad)
	return bad
}

// allows reports whether the allowed entry a ("path" or "path/...")
// covers the package dep.
func allows(a, dep string) bool {
	if tree, ok := strings.CutSuffix(a, "/..."); ok {
		return underPath(dep, tree)
	}
	return dep == a
}

// rulesOf returns the rule of the most specific key rel is under.
func rulesOf(rel string) (allowed []string, ok bool) {
	best := ""
	for key := range importRules {
		if underPath(rel, key) && len(key) > len(best) {
			best = key
		}
	}
	if best == "" {
		return nil, false
	}
	return importRules[best], true
}

// underPath reports whether p is dir or a package below it.
func underPath(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Module", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var mod string
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
			Module     struct{ Path string }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		mod = p.Module.Path
		imports[p.ImportPath] = p.Imports
	}
	if mod == "" || !slices.Contains(slices.Collect(mapKeys(imports)), mod+"/cache") {
		t.Fatalf("go list found no %s/cache package; is the test running in the module root?", mod)
	}
	if bad := importViolations(mod, imports); len(bad) > 0 {
		t.Errorf("import rules of ARCHITECTURE.md broken:\n%s", strings.Join(bad, "\n"))
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestImportViolations checks the checker: each rule catches what it must.
func TestImportViolations(t *testing.T) {
	const m = "example.com/p"
	tests := []struct {
		name    string
		imports map[string][]string
		want    []string
	}{
		{"clean graph", map[string][]string{
			m:                 {m + "/cache", m + "/store", m + "/handlers", "fmt"},
			m + "/handlers":   {m + "/views", m + "/cache", m + "/scaling", m + "/gallery"},
			m + "/store":      {m + "/cache/pool", m + "/scaling", m + "/gallery", "github.com/uptrace/bun"},
			m + "/cache":      {"net/http"},
			m + "/cache/pool": {m + "/cache", m + "/cache/node"},
		}, nil},
		{"cache imports store", map[string][]string{m + "/cache": {m + "/store"}}, []string{"cache imports store"}},
		{"the engines import the pool", map[string][]string{m + "/cache": {m + "/cache/pool"}}, []string{"cache imports cache/pool"}},
		{"cache subpackage imports scaling", map[string][]string{m + "/cache/pool": {m + "/scaling"}}, []string{"cache/pool imports scaling"}},
		{"the simulator imports the pool", map[string][]string{m + "/cache/sim": {m + "/cache/pool"}}, []string{"cache/sim imports cache/pool"}},
		{"cache imports internal", map[string][]string{m + "/cache/sim": {m + "/internal/bytesize"}}, []string{"cache/sim imports internal/bytesize"}},
		{"views imports handlers", map[string][]string{m + "/views": {m + "/handlers"}}, []string{"views imports handlers"}},
		{"handlers imports store", map[string][]string{m + "/handlers": {m + "/store"}}, []string{"handlers imports store"}},
		{"scaling imports cache", map[string][]string{m + "/scaling": {m + "/cache"}}, []string{"scaling imports cache"}},
		{"scaling imports the AWS fake", map[string][]string{m + "/scaling": {m + "/internal/awsfake"}}, []string{"scaling imports internal/awsfake", "scaling imports test support internal/awsfake"}},
		{"the AWS fake imports scaling", map[string][]string{m + "/internal/awsfake": {m + "/scaling"}}, []string{"internal/awsfake imports scaling"}},
		{"the root imports test support", map[string][]string{m: {m + "/internal/awsfake"}}, []string{"main imports test support internal/awsfake"}},
		{"gallery imports store", map[string][]string{m + "/gallery": {m + "/store"}}, []string{"gallery imports store"}},
		{"a name that only shares a prefix", map[string][]string{m + "/cachex": {m + "/store"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := importViolations(m, tt.imports); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
