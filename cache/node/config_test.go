package node

import (
	"testing"

	"github.com/picpool/picpool/cache"
)

// TestNewDefaultsToDefaultPolicy: a node given no configuration runs the
// policy the project recommends (cache.DefaultPolicy), as a new pool does.
func TestNewDefaultsToDefaultPolicy(t *testing.T) {
	n, err := New(Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Capacity: DefaultCapacity, Policy: cache.DefaultPolicy}
	if got := n.Config(); got != want {
		t.Fatalf("Config() = %+v, want %+v", got, want)
	}
	if got := n.Status().Config; got != want {
		t.Fatalf("Status().Config = %+v, want %+v", got, want)
	}
}
