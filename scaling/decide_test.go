package scaling

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecide(t *testing.T) {
	def := DefaultPolicy() // max 0.5, min 0.2, expand 2, shrink 0.5, min requests 20
	tests := []struct {
		name     string
		current  int
		missRate float64
		requests int64
		policy   Policy
		want     int
	}{
		// Growing: ceil(current × 2), clamped to 8.
		{"grow 1 to 2", 1, 0.9, 100, def, 2},
		{"grow 2 to 4", 2, 0.51, 100, def, 4},
		{"grow 4 to 8", 4, 1, 100, def, 8},
		{"grow 5 clamped to 8", 5, 0.6, 100, def, 8},
		{"hold at max 8", 8, 1, 100, def, 8},
		{"just above max grows", 3, math.Nextafter(0.5, 1), 100, def, 6},
		{"exactly at max holds", 3, 0.5, 100, def, 3},
		{"ceil with ratio 1.5", 3, 0.9, 100, withRatios(def, 1.5, 0.5), 5},         // 4.5 → 5
		{"tiny ratio still grows one", 3, 0.9, 100, withRatios(def, 1.01, 0.5), 4}, // ceil(3.03) = 4
		{"ratio 1.0001 on 1 grows to 2", 1, 0.9, 100, withRatios(def, 1.0001, 0.5), 2},

		// Shrinking: floor(current × 0.5), at least one less, at least 1.
		{"shrink 8 to 4", 8, 0.1, 100, def, 4},
		{"shrink 4 to 2", 4, 0, 100, def, 2},
		{"shrink 2 to 1", 2, 0.19, 100, def, 1},
		{"shrink 3 to 1", 3, 0.1, 100, def, 1}, // floor(1.5)
		{"hold at min 1", 1, 0, 100, def, 1},
		{"just below min shrinks", 6, math.Nextafter(0.2, 0), 100, def, 3},
		{"exactly at min holds", 6, 0.2, 100, def, 6},
		{"ratio 0.9 still shrinks one", 5, 0.1, 100, withRatios(def, 2, 0.9), 4}, // floor(4.5)=4
		{"ratio 0.99 on 2 shrinks to 1", 2, 0.1, 100, withRatios(def, 2, 0.99), 1},
		{"ratio 0.99 on 8 shrinks to 7", 8, 0.1, 100, withRatios(def, 2, 0.99), 7},

		// Between the thresholds: no change.
		{"between holds", 4, 0.35, 100, def, 4},

		// The request floor.
		{"one below floor holds", 1, 1, 19, def, 1},
		{"at floor decides", 1, 1, 20, def, 2},
		{"no lookups holds", 4, 0, 0, def, 4},
		{"floor 0 and no lookups decides", 4, 0, 0, withFloor(def, 0), 2},
		{"negative lookups hold", 4, 1, -1, withFloor(def, 0), 4},

		// NaN miss rate: nothing to decide from.
		{"NaN miss rate holds", 4, math.NaN(), 100, def, 4},

		// A current size outside the bounds comes back inside them.
		{"current 0 quiet becomes 1", 0, 0.3, 0, def, 1},
		{"current 12 quiet becomes 8", 12, 0.3, 0, def, 8},
		{"current 0 growing becomes 1", 0, 1, 100, def, 1},
		{"current -5 shrinking becomes 1", -5, 0, 100, def, 1},
		{"current 20 shrinking becomes 8", 20, 0, 100, def, 8},

		// Invalid policies still give sizes in bounds, moving the right way.
		{"expand ratio 1 still grows one", 3, 1, 100, withRatios(def, 1, 0.5), 4},
		{"expand ratio NaN grows one", 3, 1, 100, withRatios(def, math.NaN(), 0.5), 4},
		{"expand ratio +Inf clamps to 8", 3, 1, 100, withRatios(def, math.Inf(1), 0.5), 8},
		{"shrink ratio 1 still shrinks one", 3, 0, 100, withRatios(def, 2, 1), 2},
		{"shrink ratio NaN shrinks one", 3, 0, 100, withRatios(def, 2, math.NaN()), 2},
		{"shrink ratio -1 clamps to 1", 5, 0, 100, withRatios(def, 2, -1), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.current, tt.missRate, tt.requests, tt.policy)
			if got != tt.want {
				t.Errorf("Decide(%d, %v, %d, %+v) = %d, want %d",
					tt.current, tt.missRate, tt.requests, tt.policy, got, tt.want)
			}
		})
	}
}

func withRatios(p Policy, expand, shrink float64) Policy {
	p.ExpandRatio, p.ShrinkRatio = expand, shrink
	return p
}

func withFloor(p Policy, minRequests int64) Policy {
	p.MinRequests = minRequests
	return p
}

func TestDefaultPolicyIsValid(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("DefaultPolicy().Validate() = %v, want nil", err)
	}
	want := Policy{MaxMissRate: 0.5, MinMissRate: 0.2, ExpandRatio: 2, ShrinkRatio: 0.5, MinRequests: 20}
	if diff := cmp.Diff(want, DefaultPolicy()); diff != "" {
		t.Errorf("DefaultPolicy() mismatch (-want +got):\n%s", diff)
	}
}

func TestPolicyValidate(t *testing.T) {
	def := DefaultPolicy()
	set := func(f func(*Policy)) Policy {
		p := def
		f(&p)
		return p
	}
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name   string
		policy Policy
		want   []FieldError // nil: valid
	}{
		{"default", def, nil},
		{"rates at the bounds 0 and 1", set(func(p *Policy) { p.MinMissRate, p.MaxMissRate = 0, 1 }), nil},
		{"rates one ulp apart", set(func(p *Policy) { p.MinMissRate = math.Nextafter(p.MaxMissRate, 0) }), nil},
		{"expand ratio just above 1", set(func(p *Policy) { p.ExpandRatio = math.Nextafter(1, 2) }), nil},
		{"shrink ratio just above 0", set(func(p *Policy) { p.ShrinkRatio = math.SmallestNonzeroFloat64 }), nil},
		{"shrink ratio just below 1", set(func(p *Policy) { p.ShrinkRatio = math.Nextafter(1, 0) }), nil},
		{"min requests 0", set(func(p *Policy) { p.MinRequests = 0 }), nil},

		{"max miss above 1", set(func(p *Policy) { p.MaxMissRate = 1.5 }), []FieldError{
			{"maxMiss", "The maximum miss rate must be between 0 and 1; got 1.5."},
		}},
		{"max miss negative", set(func(p *Policy) { p.MaxMissRate = -0.1 }), []FieldError{
			{"maxMiss", "The maximum miss rate must be between 0 and 1; got -0.1."},
		}},
		{"max miss NaN", set(func(p *Policy) { p.MaxMissRate = nan }), []FieldError{
			{"maxMiss", "The maximum miss rate must be between 0 and 1; got NaN."},
		}},
		{"min miss above 1", set(func(p *Policy) { p.MinMissRate = 1.01 }), []FieldError{
			{"minMiss", "The minimum miss rate must be between 0 and 1; got 1.01."},
		}},
		{"min miss -Inf", set(func(p *Policy) { p.MinMissRate = math.Inf(-1) }), []FieldError{
			{"minMiss", "The minimum miss rate must be between 0 and 1; got -Inf."},
		}},
		{"min above max", set(func(p *Policy) { p.MinMissRate = 0.6 }), []FieldError{
			{"minMiss", "The minimum miss rate (0.6) must be lower than the maximum miss rate (0.5)."},
		}},
		{"min equal to max", set(func(p *Policy) { p.MinMissRate = 0.5 }), []FieldError{
			{"minMiss", "The minimum miss rate (0.5) must be lower than the maximum miss rate (0.5)."},
		}},
		{"expand ratio 1", set(func(p *Policy) { p.ExpandRatio = 1 }), []FieldError{
			{"expRatio", "The expand ratio must be greater than 1; got 1."},
		}},
		{"expand ratio 0.5", set(func(p *Policy) { p.ExpandRatio = 0.5 }), []FieldError{
			{"expRatio", "The expand ratio must be greater than 1; got 0.5."},
		}},
		{"expand ratio +Inf", set(func(p *Policy) { p.ExpandRatio = inf }), []FieldError{
			{"expRatio", "The expand ratio must be greater than 1; got +Inf."},
		}},
		{"expand ratio NaN", set(func(p *Policy) { p.ExpandRatio = nan }), []FieldError{
			{"expRatio", "The expand ratio must be greater than 1; got NaN."},
		}},
		{"shrink ratio 1.2", set(func(p *Policy) { p.ShrinkRatio = 1.2 }), []FieldError{
			{"shrinkRatio", "The shrink ratio must be greater than 0 and less than 1; got 1.2."},
		}},
		{"shrink ratio 1", set(func(p *Policy) { p.ShrinkRatio = 1 }), []FieldError{
			{"shrinkRatio", "The shrink ratio must be greater than 0 and less than 1; got 1."},
		}},
		{"shrink ratio 0", set(func(p *Policy) { p.ShrinkRatio = 0 }), []FieldError{
			{"shrinkRatio", "The shrink ratio must be greater than 0 and less than 1; got 0."},
		}},
		{"shrink ratio NaN", set(func(p *Policy) { p.ShrinkRatio = nan }), []FieldError{
			{"shrinkRatio", "The shrink ratio must be greater than 0 and less than 1; got NaN."},
		}},
		{"min requests -1", set(func(p *Policy) { p.MinRequests = -1 }), []FieldError{
			{"minRequests", "The minimum number of requests must be 0 or more; got -1."},
		}},
		{"every field wrong, in form order", Policy{MaxMissRate: 2, MinMissRate: -1, ExpandRatio: 0, ShrinkRatio: 3, MinRequests: -5}, []FieldError{
			{"maxMiss", "The maximum miss rate must be between 0 and 1; got 2."},
			{"minMiss", "The minimum miss rate must be between 0 and 1; got -1."},
			{"expRatio", "The expand ratio must be greater than 1; got 0."},
			{"shrinkRatio", "The shrink ratio must be greater than 0 and less than 1; got 3."},
			{"minRequests", "The minimum number of requests must be 0 or more; got -5."},
		}},
		{"zero policy", Policy{}, []FieldError{
			{"minMiss", "The minimum miss rate (0) must be lower than the maximum miss rate (0)."},
			{"expRatio", "The expand ratio must be greater than 1; got 0."},
			{"shrinkRatio", "The shrink ratio must be greater than 0 and less than 1; got 0."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Validate() = %v (%T), want a *PolicyError", err, err)
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("errors.Is(%v, ErrInvalidPolicy) = false, want true", err)
			}
			if diff := cmp.Diff(tt.want, pe.Fields); diff != "" {
				t.Errorf("Validate() fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyErrorMessage(t *testing.T) {
	err := Policy{MaxMissRate: 0.5, MinMissRate: 0.2, ExpandRatio: 1, ShrinkRatio: 1.2, MinRequests: 20}.Validate()
	want := "scaling: invalid policy: The expand ratio must be greater than 1; got 1. " +
		"The shrink ratio must be greater than 0 and less than 1; got 1.2."
	if err == nil || err.Error() != want {
		t.Errorf("Validate() error = %v, want %q", err, want)
	}
}

// FuzzDecide checks Decide's invariants for any inputs, with the default
// policy's shape (valid ratios) or a fuzzed valid policy.
func FuzzDecide(f *testing.F) {
	f.Add(1, 0.9, int64(100), 0.5, 0.2, 2.0, 0.5, int64(20))
	f.Add(8, 0.1, int64(100), 0.5, 0.2, 2.0, 0.5, int64(20))
	f.Add(4, 0.5, int64(20), 0.5, 0.2, 2.0, 0.5, int64(20))
	f.Add(4, 0.2, int64(19), 0.5, 0.2, 2.0, 0.5, int64(20))
	f.Add(3, 0.99, int64(5), 0.9, 0.1, 1.01, 0.99, int64(0))
	f.Add(0, math.NaN(), int64(-1), 1.0, 0.0, 3.0, 0.1, int64(1))
	f.Add(3, 1.0, int64(100), 0.5, 0.2, math.NaN(), math.NaN(), int64(0))
	f.Add(3, 0.0, int64(100), 0.5, 0.2, math.Inf(-1), math.Inf(1), int64(0))
	f.Fuzz(func(t *testing.T, current int, missRate float64, requests int64,
		maxMiss, minMiss, expand, shrink float64, minRequests int64) {
		p := Policy{MaxMissRate: maxMiss, MinMissRate: minMiss, ExpandRatio: expand, ShrinkRatio: shrink, MinRequests: minRequests}
		got := Decide(current, missRate, requests, p)

		if got < MinNodes || got > MaxNodes {
			t.Fatalf("Decide(%d, %v, %d, %+v) = %d, outside [%d, %d]", current, missRate, requests, p, got, MinNodes, MaxNodes)
		}
		if current < MinNodes || current > MaxNodes {
			return // the remaining invariants are about a pool within bounds
		}
		switch {
		case got > current && !(missRate > maxMiss):
			t.Fatalf("Decide(%d, %v, %d, %+v) = %d: grew without a miss rate above the maximum", current, missRate, requests, p, got)
		case got < current && !(missRate < minMiss):
			t.Fatalf("Decide(%d, %v, %d, %+v) = %d: shrank without a miss rate below the minimum", current, missRate, requests, p, got)
		case requests < minRequests && got != current:
			t.Fatalf("Decide(%d, %v, %d, %+v) = %d: moved with fewer than %d requests", current, missRate, requests, p, got, minRequests)
		}
		if requests < minRequests || math.IsNaN(missRate) {
			return
		}
		// A policy where both thresholds fire at once (min > max) is
		// invalid; the grow branch wins there, so only check the shrink
		// invariant where it can apply.
		if missRate > maxMiss && current < MaxNodes && got <= current {
			t.Fatalf("Decide(%d, %v, %d, %+v) = %d: miss rate above the maximum, want at least %d", current, missRate, requests, p, got, current+1)
		}
		if missRate < minMiss && !(missRate > maxMiss) && current > MinNodes && got >= current {
			t.Fatalf("Decide(%d, %v, %d, %+v) = %d: miss rate below the minimum, want at most %d", current, missRate, requests, p, got, current-1)
		}
		if p.Validate() == nil && !(missRate > maxMiss) && !(missRate < minMiss) && got != current {
			t.Fatalf("Decide(%d, %v, %d, %+v) = %d: miss rate within the thresholds, want %d", current, missRate, requests, p, got, current)
		}
	})
}
