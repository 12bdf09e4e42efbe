package scaling

import "errors"

// Rule is automatic mode's rule: how the autoscaler picks a size.
type Rule string

const (
	// RuleRatios is the course handout's rule (Decide): above a miss rate
	// multiply the pool by a ratio, below another shrink it by one. The
	// default; "" reads as it, so settings saved before rules existed keep
	// their meaning.
	RuleRatios Rule = "ratios"
	// RuleTarget sizes the pool to a target miss rate from the pool's
	// miss-ratio curve (DecideTarget), in one resize.
	RuleTarget Rule = "target"
)

// DefaultTarget is the target policy's rule until the operator sets one:
// a miss rate of at most 0.1, with DefaultHysteresis.
func DefaultTarget() Target { return Target{MissRate: 0.1, Hysteresis: DefaultHysteresis} }

// DefaultSettings are the settings of a pool nobody configured: manual
// mode; in automatic mode, the ratios with DefaultPolicy.
func DefaultSettings() Settings {
	return Settings{Mode: Manual, Rule: RuleRatios, Policy: DefaultPolicy(), Target: DefaultTarget()}
}

// WithDefaults fills in what settings saved by an older version lack: the
// rule (ratios) and the target (DefaultTarget).
func (s Settings) WithDefaults() Settings {
	if s.Rule == "" {
		s.Rule = RuleRatios
	}
	if s.Target == (Target{}) {
		s.Target = DefaultTarget()
	}
	return s
}

// Validate is the one check of settings: nil when they are usable, or a
// *PolicyError listing every invalid field by its test API name ("mode",
// "rule", the ratios' fields, "targetMiss", "hysteresis"). Both rules'
// fields are checked whichever is in force, so that a switch of rule
// never lands on values nobody could save.
func (s Settings) Validate() error {
	var fields []FieldError
	if s.Mode != Manual && s.Mode != Auto {
		fields = append(fields, FieldError{Field: "mode", Message: "The mode must be manual or auto; got \"" + string(s.Mode) + "\"."})
	}
	if s.Rule != RuleRatios && s.Rule != RuleTarget && s.Rule != "" {
		fields = append(fields, FieldError{Field: "rule", Message: "The rule must be ratios or target; got \"" + string(s.Rule) + "\"."})
	}
	var pe *PolicyError
	if err := s.Policy.Validate(); errors.As(err, &pe) {
		fields = append(fields, pe.Fields...)
	}
	if err := s.Target.Validate(); errors.As(err, &pe) {
		fields = append(fields, pe.Fields...)
	}
	if len(fields) > 0 {
		return &PolicyError{Fields: fields}
	}
	return nil
}
