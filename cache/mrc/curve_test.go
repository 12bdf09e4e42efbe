package mrc

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMissRatio(t *testing.T) {
	c := Curve{Points: []Point{{1000, 0.8}, {2000, 0.6}, {8000, 0.2}}}
	tests := []struct {
		name     string
		capacity int64
		want     float64
	}{
		{"zero bytes miss all", 0, 1},
		{"negative bytes miss all", -5, 1},
		{"below the first point: linear from 1", 500, 0.9},
		{"at a point", 2000, 0.6},
		{"at the first point", 1000, 0.8},
		{"at the last point", 8000, 0.2},
		{"log-linear between points: half the doublings", 4000, 0.4},
		{"log-linear, a quarter of the way", 2828, 0.6 - 0.4*math.Log2(2828.0/2000)/2},
		{"past the last point: flat", 1 << 40, 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.MissRatio(tt.capacity); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("MissRatio(%d) = %v, want %v", tt.capacity, got, tt.want)
			}
		})
	}
	if got := (Curve{}).MissRatio(100); !math.IsNaN(got) {
		t.Errorf("an empty curve's MissRatio = %v, want NaN", got)
	}
}

func TestCurveJSON(t *testing.T) {
	c := Curve{Policy: "lru", Requests: 1200, Keys: 40, Points: []Point{{65536, 0.912345}, {131072, 0.85}}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"policy":"lru","requests":1200,"keys":40,"points":[[65536,0.9123],[131072,0.85]]}`
	if string(b) != want {
		t.Fatalf("json.Marshal = %s, want %s", b, want)
	}
	var back Curve
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	c.Points[0].MissRatio = 0.9123
	if diff := cmp.Diff(c, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := json.Marshal(Curve{Points: []Point{{1, math.NaN()}}}); err == nil {
		t.Error("a NaN miss ratio encoded without an error")
	}
}

func TestCurveJSONRefusesBadCurves(t *testing.T) {
	tests := []struct{ in, msg string }{
		{`{"points":[[100,0.5],[100,0.4]]}`, "curve point 1: capacity 100 is not positive and above the previous point's"},
		{`{"points":[[0,0.5]]}`, "curve point 0: capacity 0 is not positive"},
		{`{"points":[[100,1.5]]}`, "curve point 0: miss ratio 1.5 is not within [0, 1]"},
		{`{"points":[[100,-0.1]]}`, "miss ratio -0.1 is not within [0, 1]"},
		{`{"requests":-1,"points":[]}`, "-1 requests"},
		{`{"keys":-3,"points":[]}`, "-3 keys"},
		{`{"points":[[100]]}`, "a point must be [capacity, missRatio]"},
		{`{"points":[[1.5,0.2]]}`, "capacity 1.5 is not a whole number of bytes"},
		{`{"points":[[100,"x"]]}`, "a point must be [capacity, missRatio]"},
	}
	for _, tt := range tests {
		var c Curve
		err := json.Unmarshal([]byte(tt.in), &c)
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "mrc: ") {
			t.Errorf("Unmarshal(%s) error = %v, want one with %q", tt.in, err, tt.msg)
		}
	}
}

func TestSimplify(t *testing.T) {
	// A straight stretch (in log capacity) keeps its ends; a bend stays.
	ps := []Point{{1 << 10, 1}, {1 << 11, 0.9}, {1 << 12, 0.8}, {1 << 13, 0.7}, {1 << 14, 0.3}, {1 << 15, 0.3}, {1 << 16, 0.3}}
	got := simplify(ps, 0.001)
	want := []Point{{1 << 10, 1}, {1 << 13, 0.7}, {1 << 14, 0.3}, {1 << 16, 0.3}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("simplify (-want +got):\n%s", diff)
	}
	// Every dropped point is reproduced within the tolerance.
	c := Curve{Points: got}
	for _, p := range ps {
		if d := math.Abs(c.MissRatio(p.Capacity) - p.MissRatio); d > 0.001 {
			t.Errorf("at %d: simplified curve says %v, the point was %v", p.Capacity, c.MissRatio(p.Capacity), p.MissRatio)
		}
	}
}
