package node

import (
	"errors"
	"net/http"
	"strings"
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

// TestNodeRefusesMoreThanItHolds checks MaxCapacity: a node refuses, at
// start and through its API, a capacity above what its memory holds, and
// says what the limit is; the capacity it had stays.
func TestNodeRefusesMoreThanItHolds(t *testing.T) {
	const limit = 100 << 20
	if _, err := New(Options{Token: testToken, MaxCapacity: limit, Config: Config{Capacity: limit + 1<<20, Policy: "lru"}}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("New above MaxCapacity: err = %v, want ErrBadConfig", err)
	}
	tn := startNode(t, Options{MaxCapacity: limit, Config: Config{Capacity: 64 << 20, Policy: "lru"}})
	code, body, _ := tn.request(t, http.MethodPut, "/v1/config", testToken, nil, strings.NewReader(`{"capacity": 209715200, "policy": "lru"}`))
	want := "a capacity of 200 MB is more than this node can hold (at most 100 MB, from its memory); choose a smaller capacity, or nodes with more memory"
	if code != http.StatusBadRequest || !strings.Contains(body, want) {
		t.Errorf("PUT /v1/config 200 MB = %d %q, want 400 saying %q", code, body, want)
	}
	if got := tn.Config().Capacity; got != 64<<20 {
		t.Errorf("capacity after the refusal = %d, want the 64 MB it had", got)
	}
	if err := tn.client.Configure(t.Context(), Config{Capacity: limit, Policy: "sieve"}); err != nil {
		t.Errorf("Configure at the limit: %v", err)
	}
}

func TestCheckDataAuth(t *testing.T) {
	tests := []struct {
		addr, auth string
		ok         bool
	}{
		{":11211", DataAuthToken, true},
		{":11211", DataAuthNone, false},
		{"0.0.0.0:11211", DataAuthNone, false},
		{"10.0.0.5:11211", DataAuthNone, false},
		{"127.0.0.1:11211", DataAuthNone, true},
		{"127.0.0.2:0", DataAuthNone, true},
		{"[::1]:11211", DataAuthNone, true},
		{"localhost:11211", DataAuthNone, true},
		{"", DataAuthNone, true}, // no data port
	}
	for _, tt := range tests {
		if err := CheckDataAuth(tt.addr, tt.auth); (err == nil) != tt.ok {
			t.Errorf("CheckDataAuth(%q, %q) = %v; want ok %v", tt.addr, tt.auth, err, tt.ok)
		}
	}
}
