package scaling

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSettingsValidate: the one check of settings names every invalid
// field, both rules' whichever is in force.
func TestSettingsValidate(t *testing.T) {
	ok := DefaultSettings()
	tests := []struct {
		name   string
		change func(*Settings)
		fields []string
	}{
		{"defaults", func(*Settings) {}, nil},
		{"target rule", func(s *Settings) { s.Mode, s.Rule = Auto, RuleTarget }, nil},
		{"no rule reads as ratios", func(s *Settings) { s.Rule = "" }, nil},
		{"unknown mode", func(s *Settings) { s.Mode = "sometimes" }, []string{"mode"}},
		{"unknown rule", func(s *Settings) { s.Rule = "magic" }, []string{"rule"}},
		{"target 0", func(s *Settings) { s.Target.MissRate = 0 }, []string{"targetMiss"}},
		{"target 1 under the ratios", func(s *Settings) { s.Target.MissRate = 1 }, []string{"targetMiss"}},
		{"hysteresis 1", func(s *Settings) { s.Target.Hysteresis = 1 }, []string{"hysteresis"}},
		{"bad ratio under the target rule", func(s *Settings) { s.Rule, s.Policy.ExpandRatio = RuleTarget, 1 }, []string{"expRatio"}},
		{"everything", func(s *Settings) {
			s.Mode, s.Rule, s.Policy.ShrinkRatio, s.Target.MissRate = "x", "y", 0, -1
		}, []string{"mode", "rule", "shrinkRatio", "targetMiss"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			err := s.Validate()
			var got []string
			if pe, isPE := errors.AsType[*PolicyError](err); isPE {
				for _, f := range pe.Fields {
					got = append(got, f.Field)
				}
			} else if err != nil {
				t.Fatalf("Validate() = %v, not a *PolicyError", err)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("invalid fields (-want +got):\n%s", diff)
			}
		})
	}
	if got := (Settings{Mode: Auto, Policy: DefaultPolicy()}).WithDefaults(); got.Rule != RuleRatios || got.Target != DefaultTarget() {
		t.Errorf("WithDefaults of settings saved before rules: rule %q, target %+v; want ratios, %+v", got.Rule, got.Target, DefaultTarget())
	}
}
