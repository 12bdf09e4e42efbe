package scaling

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sizes is a curve given by its prediction for each pool size: the miss
// rate of a pool of n × sizesNode bytes is m[n-1], whatever the number of
// nodes; between and beyond whole multiples it is the nearest one's below.
type sizes []float64

const sizesNode = 1 << 20

func (m sizes) PoolMissRatio(nodes int, nodeCapacity int64) float64 {
	n := int(int64(nodes) * nodeCapacity / sizesNode)
	return m[min(max(n, 1), len(m))-1]
}

func TestDecideTarget(t *testing.T) {
	// The step load's curve: 40 images of 100 KB, nodes of 1 MiB.
	step := sizes{0.77, 0.52, 0.26, 0.02, 0.02, 0.02, 0.02, 0.02}
	zipf := sizes{0.51, 0.43, 0.38, 0.35, 0.32, 0.30, 0.28, 0.27}
	target := Target{MissRate: 0.1, Hysteresis: 0.2} // shrink only to a size at 0.08 or less
	tests := []struct {
		name    string
		current int
		curve   PoolCurve
		node    int64
		target  Target
		want    int
	}{
		{"step load: 1 to 4 in one step", 1, step, sizesNode, target, 4},
		{"step load: 2 to 4", 2, step, sizesNode, target, 4},
		{"step load: 4 holds", 4, step, sizesNode, target, 4},
		{"step load: 8 shrinks to 4 at once", 8, step, sizesNode, target, 4},
		{"twice the node size: 2 nodes", 1, step, 2 * sizesNode, target, 2},
		{"no size meets the target: 8", 1, zipf, sizesNode, target, 8},
		{"no size meets the target, at 8: holds", 8, zipf, sizesNode, target, 8},
		{"target met exactly grows to it", 1, zipf, sizesNode, Target{MissRate: 0.35, Hysteresis: 0.2}, 4},
		{"just above the target: the next size", 1, zipf, sizesNode, Target{MissRate: math.Nextafter(0.35, 0), Hysteresis: 0.2}, 5},

		// Hysteresis: from 6 nodes, 4 and 5 are predicted 0.09, under the
		// target 0.1 but above 0.08: no shrink. At 0.08 it shrinks.
		{"under the target but within the margin: holds", 6, sizes{0.5, 0.3, 0.2, 0.09, 0.09, 0.07, 0.04, 0.04}, sizesNode, target, 6},
		{"growing needs no margin", 1, sizes{0.5, 0.3, 0.2, 0.09, 0.09, 0.07, 0.04, 0.04}, sizesNode, target, 4},
		{"at the shrink threshold: shrinks", 6, sizes{0.5, 0.3, 0.2, 0.08, 0.05, 0.04, 0.04, 0.04}, sizesNode, target, 4},
		{"shrinks to the smallest size under the threshold", 8, sizes{0.5, 0.3, 0.2, 0.09, 0.05, 0.04, 0.04, 0.04}, sizesNode, target, 5},
		{"a wide margin holds", 6, sizes{0.5, 0.3, 0.2, 0.09, 0.05, 0.04, 0.04, 0.04}, sizesNode, Target{MissRate: 0.1, Hysteresis: 0.6}, 6},
		{"no hysteresis: shrinks to the target", 6, sizes{0.5, 0.3, 0.2, 0.09, 0.05, 0.04, 0.04, 0.04}, sizesNode, Target{MissRate: 0.1}, 4},
		{"above the target, a smaller size predicted within it: to that size", 6, sizes{0.5, 0.3, 0.2, 0.09, 0.1, 0.16, 0.04, 0.01}, sizesNode, target, 4},
		{"an idle pool (miss rate 0 everywhere) shrinks to 1", 5, sizes{0, 0, 0, 0, 0, 0, 0, 0}, sizesNode, target, 1},

		// Nothing to decide from.
		{"no curve holds", 3, nil, sizesNode, target, 3},
		{"a curve of NaN holds", 3, sizes{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}, sizesNode, target, 3},
		{"one NaN holds", 3, sizes{0.9, 0.9, 0.9, 0.9, math.NaN(), 0, 0, 0}, sizesNode, target, 3},
		{"capacity 0 holds", 3, step, 0, target, 3},
		{"negative capacity holds", 3, step, -1, target, 3},
		{"target 0 holds", 3, step, sizesNode, Target{}, 3},
		{"target 1 holds", 3, step, sizesNode, Target{MissRate: 1}, 3},
		{"NaN target holds", 3, step, sizesNode, Target{MissRate: math.NaN()}, 3},
		{"hysteresis 1 holds", 3, step, sizesNode, Target{MissRate: 0.1, Hysteresis: 1}, 3},

		// Out-of-bounds current sizes come back inside.
		{"current 0 holding becomes 1", 0, nil, sizesNode, target, 1},
		{"current 12 holding becomes 8", 12, nil, sizesNode, target, 8},
		{"current 0 grows", 0, step, sizesNode, target, 4},
		{"current 20 shrinks", 20, step, sizesNode, target, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecideTarget(tt.current, tt.curve, tt.node, tt.target); got != tt.want {
				t.Errorf("DecideTarget(%d, %v, %d, %+v) = %d, want %d", tt.current, tt.curve, tt.node, tt.target, got, tt.want)
			}
		})
	}
}

func TestPredict(t *testing.T) {
	got := Predict(sizes{0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0}, sizesNode)
	want := []float64{0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Predict (-want +got):\n%s", diff)
	}
	var asked []int
	Predict(curveFunc(func(n int, c int64) float64 {
		if c != 3<<20 {
			t.Errorf("Predict asked for nodes of %d bytes, want %d", c, 3<<20)
		}
		asked = append(asked, n)
		return 0
	}), 3<<20)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !cmp.Equal(asked, want) {
		t.Errorf("Predict asked for sizes %v, want %v", asked, want)
	}
}

type curveFunc func(nodes int, nodeCapacity int64) float64

func (f curveFunc) PoolMissRatio(n int, c int64) float64 { return f(n, c) }

func TestTargetValidate(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		want   []FieldError
	}{
		{"usual", Target{MissRate: 0.1, Hysteresis: DefaultHysteresis}, nil},
		{"bounds just inside", Target{MissRate: math.SmallestNonzeroFloat64, Hysteresis: math.Nextafter(1, 0)}, nil},
		{"target 0", Target{MissRate: 0}, []FieldError{{"targetMiss", "The target miss rate must be greater than 0 and less than 1; got 0."}}},
		{"target 1", Target{MissRate: 1}, []FieldError{{"targetMiss", "The target miss rate must be greater than 0 and less than 1; got 1."}}},
		{"target NaN", Target{MissRate: math.NaN()}, []FieldError{{"targetMiss", "The target miss rate must be greater than 0 and less than 1; got NaN."}}},
		{"both wrong", Target{MissRate: -0.5, Hysteresis: 1}, []FieldError{
			{"targetMiss", "The target miss rate must be greater than 0 and less than 1; got -0.5."},
			{"hysteresis", "The hysteresis must be at least 0 and less than 1; got 1."},
		}},
		{"hysteresis negative", Target{MissRate: 0.1, Hysteresis: -0.1}, []FieldError{{"hysteresis", "The hysteresis must be at least 0 and less than 1; got -0.1."}}},
		{"hysteresis NaN", Target{MissRate: 0.1, Hysteresis: math.NaN()}, []FieldError{{"hysteresis", "The hysteresis must be at least 0 and less than 1; got NaN."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.target.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate() = %v, want a *PolicyError matching ErrInvalidPolicy", err)
			}
			if diff := cmp.Diff(tt.want, pe.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecideTarget checks DecideTarget's invariants for any curve (eight
// predicted miss rates), current size and target.
func FuzzDecideTarget(f *testing.F) {
	f.Add(1, 0.1, 0.2, 0.77, 0.52, 0.26, 0.02, 0.02, 0.02, 0.02, 0.02)
	f.Add(8, 0.1, 0.2, 0.77, 0.52, 0.26, 0.02, 0.02, 0.02, 0.02, 0.02)
	f.Add(6, 0.1, 0.2, 0.5, 0.3, 0.2, 0.09, 0.05, 0.04, 0.04, 0.04)
	f.Add(3, 0.3, 0.0, 0.5, 0.2, 0.4, 0.1, 0.6, 0.0, 0.9, 0.3) // not monotone
	f.Add(0, math.NaN(), 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, current int, target, hysteresis, m1, m2, m3, m4, m5, m6, m7, m8 float64) {
		curve := sizes{m1, m2, m3, m4, m5, m6, m7, m8}
		tg := Target{MissRate: target, Hysteresis: hysteresis}
		got := DecideTarget(current, curve, sizesNode, tg)
		if got < MinNodes || got > MaxNodes {
			t.Fatalf("DecideTarget(%d, %v, %+v) = %d, outside [%d, %d]", current, curve, tg, got, MinNodes, MaxNodes)
		}
		if current < MinNodes || current > MaxNodes {
			return // the rest is about a pool within bounds
		}
		valid := tg.Validate() == nil
		for _, m := range curve {
			valid = valid && !math.IsNaN(m)
		}
		if !valid {
			if got != current {
				t.Fatalf("DecideTarget(%d, %v, %+v) = %d: moved on an invalid target or curve", current, curve, tg, got)
			}
			return
		}
		// No flapping: from the size it picked, the same curve keeps it.
		if again := DecideTarget(got, curve, sizesNode, tg); again != got {
			t.Fatalf("DecideTarget(%d, %v, %+v) = %d, then from %d: %d", current, curve, tg, got, got, again)
		}
		shrinkAt := target * (1 - hysteresis)
		smallest := func(limit float64) int {
			for n, m := range curve {
				if m <= limit {
					return n + 1
				}
			}
			return 0
		}
		if curve[current-1] > target {
			// Above the target: to the smallest size within it, or 8.
			want := smallest(target)
			if want == 0 {
				want = MaxNodes
			}
			if got != want {
				t.Fatalf("DecideTarget(%d, %v, %+v) = %d: above the target, want the smallest size within it (%d)", current, curve, tg, got, want)
			}
			return
		}
		// Within the target: shrink only under the threshold, and to the
		// smallest size there.
		switch s := smallest(shrinkAt); {
		case s != 0 && s < current && got != s:
			t.Fatalf("DecideTarget(%d, %v, %+v) = %d: %d is under the shrink threshold %v", current, curve, tg, got, s, shrinkAt)
		case (s == 0 || s >= current) && got != current:
			t.Fatalf("DecideTarget(%d, %v, %+v) = %d: within the target and no smaller size under %v, want it held", current, curve, tg, got, shrinkAt)
		}
	})
}
