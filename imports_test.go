package main

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// importRules are the layering rules of ARCHITECTURE.md: a package whose
// path (relative to the module) starts with the key may not import a
// project package starting with any of the listed prefixes.
var importRules = map[string][]string{
	"cache":    {"handlers", "views", "store", "scaling", "assets"}, // a leaf: standard library only
	"views":    {"handlers", "store", "cache", "scaling"},           // view models only
	"handlers": {"store"},                                           // declares the interfaces it needs
	"scaling":  {"cache"},                                           // drives the pool through its Resizer
	"assets":   {"handlers", "views", "store", "cache", "scaling"},  // embed only
	// loadgen is an outside client over HTTP; assets (embed only) gives its
	// self-contained report the vendored ECharts script.
	"loadgen": {"handlers", "views", "store", "cache", "scaling"},
}

// importViolations returns one line per import that breaks importRules.
// imports maps each package path to its imports; mod is the module path.
func importViolations(mod string, imports map[string][]string) []string {
	var bad []string
	for pkg, imps := range imports {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, mod), "/")
		for _, imp := range imps {
			dep, ok := strings.CutPrefix(imp, mod+"/")
			if !ok {
				continue
			}
			for prefix, banned := range importRules {
				if !underPath(rel, prefix) {
					continue
				}
				for _, b := range banned {
					if underPath(dep, b) {
						bad = append(bad, rel+" imports "+dep)
					}
				}
			}
		}
	}
	slices.Sort(bad)
	return bad
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
			m:               {m + "/cache", m + "/store", m + "/handlers", "fmt"},
			m + "/handlers": {m + "/views", m + "/cache", m + "/scaling"},
			m + "/store":    {m + "/cache", m + "/scaling", "github.com/uptrace/bun"},
			m + "/cache":    {"net/http"},
		}, nil},
		{"cache imports store", map[string][]string{m + "/cache": {m + "/store"}}, []string{"cache imports store"}},
		{"cache subpackage imports scaling", map[string][]string{m + "/cache/x": {m + "/scaling/y"}}, []string{"cache/x imports scaling/y"}},
		{"views imports handlers", map[string][]string{m + "/views": {m + "/handlers"}}, []string{"views imports handlers"}},
		{"handlers imports store", map[string][]string{m + "/handlers": {m + "/store"}}, []string{"handlers imports store"}},
		{"scaling imports cache", map[string][]string{m + "/scaling": {m + "/cache"}}, []string{"scaling imports cache"}},
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
