package gallery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/scaling"
)

// MaxCacheMB bounds the capacity of one node, in MB (of 2^20 bytes).
const MaxCacheMB = 64 << 10

// PoolAdmin is what the test API and the manager need of the cache pool.
// Only the owner can resize or configure; a follower answers those with
// pool.ErrNotOwner.
type PoolAdmin interface {
	Nodes() int
	Resize(ctx context.Context, n int) error
	Configure(ctx context.Context, cfg node.Config) error
	Table() pool.Table
	Window(ctx context.Context) node.Counts
	Health(ctx context.Context) []pool.MemberHealth
	Clear(ctx context.Context) error
}

// SettingsStore keeps how the pool is sized (mode and automatic policy),
// where the autoscaler reads it.
type SettingsStore interface {
	LoadSettings(ctx context.Context) (scaling.Settings, bool, error)
	SaveSettings(ctx context.Context, s scaling.Settings) error
}

// Control changes how the pool is configured and sized: the logic behind
// the manager's forms and the test API's configure_cache, so both refuse
// the same things with the same words.
type Control struct {
	pool     PoolAdmin
	settings SettingsStore
	log      *slog.Logger
	mu       sync.Mutex // one change at a time
}

// NewControl returns the pool's control over its pool and settings.
func NewControl(pool PoolAdmin, settings SettingsStore, log *slog.Logger) *Control {
	return &Control{pool: pool, settings: settings, log: log}
}

// PoolState is the pool's configuration and size.
type PoolState struct {
	Settings scaling.Settings
	Nodes    int
	Config   node.Config
}

// State returns the pool's current state; settings never saved are the
// defaults (manual mode, the default policy).
func (c *Control) State(ctx context.Context) (PoolState, error) {
	s, err := c.loadSettings(ctx)
	if err != nil {
		return PoolState{}, err
	}
	return PoolState{Settings: s, Nodes: c.pool.Nodes(), Config: c.pool.Table().Config}, nil
}

// Settings returns how the pool is sized now: the defaults (manual mode,
// the default ratios and target) until some are saved, with defaults for
// what settings saved by an older version lack. The autoscaler reads them
// every period.
func (c *Control) Settings(ctx context.Context) (scaling.Settings, error) { return c.loadSettings(ctx) }

func (c *Control) loadSettings(ctx context.Context) (scaling.Settings, error) {
	s, ok, err := c.settings.LoadSettings(ctx)
	if err != nil {
		return scaling.Settings{}, fmt.Errorf("load pool settings: %w", storageError(err))
	}
	if !ok {
		s = scaling.DefaultSettings()
	}
	return s.WithDefaults(), nil
}

// Change is a set of changes to the pool; nil fields stay as they are.
// Its JSON, with the test API's parameter names, is how a gallery hands
// it to the pool's owner (see forward.go).
type Change struct {
	Mode        *scaling.Mode `json:"mode,omitempty"`
	NumNodes    *int          `json:"numNodes,omitempty"`
	CapacityMB  *int64        `json:"cacheSize,omitempty"`
	CachePolicy *string       `json:"policy,omitempty"` // a name cache.CanonicalPolicy knows
	MaxMiss     *float64      `json:"maxMiss,omitempty"`
	MinMiss     *float64      `json:"minMiss,omitempty"`
	ExpRatio    *float64      `json:"expRatio,omitempty"`
	ShrinkRatio *float64      `json:"shrinkRatio,omitempty"`
	Rule        *scaling.Rule `json:"rule,omitempty"`
	TargetMiss  *float64      `json:"targetMiss,omitempty"`
}

// ParseChange reads a change from form or query values, with the test
// API's parameter names: mode, numNodes, cacheSize (MB), policy,
// maxMiss, minMiss, expRatio, shrinkRatio, rule (ratios or target) and
// targetMiss. Without a rule, a targetMiss selects the target rule and
// the ratios' parameters the ratios (both at once are refused).
// Empty values are absent. It
// checks that each value is of its kind (a number, a known policy); Check
// and Apply check the values against the pool and each other. On a
// refusal it returns FieldErrors and the change without the refused
// fields, so that Check can name what else is wrong.
func ParseChange(v url.Values) (Change, error) {
	var ch Change
	var errs FieldErrors
	get := func(name string) (string, bool) {
		s := strings.TrimSpace(v.Get(name))
		return s, s != ""
	}
	if s, ok := get("mode"); ok {
		m := scaling.Mode(strings.ToLower(s))
		if m != scaling.Manual && m != scaling.Auto {
			errs = append(errs, FieldErrorf(Invalid, "mode", "The mode must be manual or auto; got %q.", s))
		} else {
			ch.Mode = &m
		}
	}
	if s, ok := get("numNodes"); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, FieldErrorf(Invalid, "numNodes", "The number of nodes (numNodes) must be a whole number from %d to %d; got %q.", scaling.MinNodes, scaling.MaxNodes, s))
		} else {
			ch.NumNodes = &n
		}
	}
	if s, ok := get("cacheSize"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs = append(errs, FieldErrorf(Invalid, "cacheSize", "The capacity of each node (cacheSize) must be a whole number of MB from 0 to %d; got %q.", MaxCacheMB, s))
		} else {
			ch.CapacityMB = &n
		}
	}
	if s, ok := get("policy"); ok {
		p, known := cache.CanonicalPolicy(s)
		if !known {
			errs = append(errs, FieldErrorf(Invalid, "policy", "Unknown policy %q: use one of %s.", s, strings.Join(PolicyNames(), ", ")))
		} else {
			ch.CachePolicy = &p
		}
	}
	if s, ok := get("rule"); ok {
		r := scaling.Rule(strings.ToLower(s))
		if r != scaling.RuleRatios && r != scaling.RuleTarget {
			errs = append(errs, FieldErrorf(Invalid, "rule", "The rule must be ratios or target; got %q.", s))
		} else {
			ch.Rule = &r
		}
	}
	for _, f := range []struct {
		name, what string
		dst        **float64
	}{
		{"maxMiss", "The maximum miss rate", &ch.MaxMiss},
		{"minMiss", "The minimum miss rate", &ch.MinMiss},
		{"expRatio", "The expand ratio", &ch.ExpRatio},
		{"shrinkRatio", "The shrink ratio", &ch.ShrinkRatio},
		{"targetMiss", "The target miss rate", &ch.TargetMiss},
	} {
		if s, ok := get(f.name); ok {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				errs = append(errs, FieldErrorf(Invalid, f.name, "%s must be a number; got %q.", f.what, s))
			} else {
				*f.dst = &x
			}
		}
	}
	if len(errs) > 0 {
		return ch, errs
	}
	return ch, nil
}

// rangeErrors checks the sizes of a change against the pool's limits.
func (ch Change) rangeErrors() FieldErrors {
	var errs FieldErrors
	if ch.NumNodes != nil && (*ch.NumNodes < scaling.MinNodes || *ch.NumNodes > scaling.MaxNodes) {
		errs = append(errs, FieldErrorf(Invalid, "numNodes", "The number of nodes (numNodes) must be between %d and %d; got %d.", scaling.MinNodes, scaling.MaxNodes, *ch.NumNodes))
	}
	if ch.CapacityMB != nil && (*ch.CapacityMB < 0 || *ch.CapacityMB > MaxCacheMB) {
		errs = append(errs, FieldErrorf(Invalid, "cacheSize", "The capacity of each node (cacheSize) must be between 0 and %d MB; got %d.", MaxCacheMB, *ch.CapacityMB))
	}
	return errs
}

// Check returns what is wrong with a change, given the current settings:
// the sizes against the pool's limits, and every threshold and ratio
// against the others. It is the one check of a change's values; Apply
// makes it first.
func (c *Control) Check(ctx context.Context, ch Change) (FieldErrors, error) {
	settings, err := c.loadSettings(ctx)
	if err != nil {
		return nil, err
	}
	_, errs := ch.applyTo(settings)
	return append(errs, ch.rangeErrors()...), nil
}

// applyTo returns the settings the change leaves, and its refusals.
func (ch Change) applyTo(settings scaling.Settings) (scaling.Settings, FieldErrors) {
	var errs FieldErrors
	next := settings
	if ch.Mode != nil {
		next.Mode = *ch.Mode
	}
	ratios := ch.MaxMiss != nil || ch.MinMiss != nil || ch.ExpRatio != nil || ch.ShrinkRatio != nil
	switch {
	case ch.Rule != nil:
		next.Rule = *ch.Rule
	case ch.TargetMiss != nil && ratios:
		errs = append(errs, FieldErrorf(Invalid, "rule", "Give rule=ratios or rule=target with both the ratios' parameters and targetMiss: which one applies?"))
	case ch.TargetMiss != nil:
		next.Rule = scaling.RuleTarget
	case ratios:
		next.Rule = scaling.RuleRatios
	}
	for _, f := range []struct {
		v   *float64
		dst *float64
	}{{ch.MaxMiss, &next.Policy.MaxMissRate}, {ch.MinMiss, &next.Policy.MinMissRate}, {ch.ExpRatio, &next.Policy.ExpandRatio}, {ch.ShrinkRatio, &next.Policy.ShrinkRatio}, {ch.TargetMiss, &next.Target.MissRate}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	var pe *scaling.PolicyError
	if err := next.Validate(); errors.As(err, &pe) {
		for _, f := range pe.Fields {
			errs = append(errs, FieldErrorf(Invalid, f.Field, "%s", f.Message))
		}
	}
	return next, errs
}

// Apply validates every part of a change first and then applies it:
// settings, then capacity and policy, then size. A refusal changes nothing
// and is a FieldErrors (400); a failure while applying says what failed.
func (c *Control) Apply(ctx context.Context, ch Change) (PoolState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	settings, err := c.loadSettings(ctx)
	if err != nil {
		return PoolState{}, err
	}
	next, errs := ch.applyTo(settings)
	if errs = append(errs, ch.rangeErrors()...); len(errs) > 0 { // as Check
		return PoolState{}, errs
	}

	// Each step that succeeds is named in done, so that a failure after it
	// says what changed instead of claiming that nothing did.
	var done []string
	if next != settings {
		if err := c.settings.SaveSettings(ctx, next); err != nil {
			return PoolState{}, c.saveFailed(ctx, next, err)
		}
		done = append(done, "the sizing settings were saved")
	}
	if ch.CapacityMB != nil || ch.CachePolicy != nil {
		cfg := c.pool.Table().Config
		if ch.CapacityMB != nil {
			cfg.Capacity = *ch.CapacityMB * bytesize.MiB
		}
		if ch.CachePolicy != nil {
			cfg.Policy = *ch.CachePolicy
		}
		if err := c.pool.Configure(ctx, cfg); err != nil {
			return PoolState{}, afterDone(done, poolError("configure the nodes", err))
		}
		done = append(done, fmt.Sprintf("every node was given %d MB with %s", cfg.Capacity/bytesize.MiB, PolicyName(cfg.Policy)))
	}
	if ch.NumNodes != nil {
		if err := c.pool.Resize(ctx, *ch.NumNodes); err != nil {
			return PoolState{}, afterDone(done, poolError(fmt.Sprintf("resize the pool to %d nodes", *ch.NumNodes), err))
		}
	}
	return PoolState{Settings: next, Nodes: c.pool.Nodes(), Config: c.pool.Table().Config}, nil
}

// saveFailed says what a failed save of the settings left. The write can
// land although it reported a failure (the connection can drop after the
// server wrote it), so the settings are read back: only when they are not
// the new ones is "nothing was changed" true.
func (c *Control) saveFailed(ctx context.Context, next scaling.Settings, err error) error {
	err = fmt.Errorf("save pool settings: %w", storageError(err))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	stored, ok, rerr := c.settings.LoadSettings(rctx)
	switch {
	case rerr == nil && !(ok && stored == next):
		return err // not saved: nothing was changed
	case rerr == nil:
		c.log.Warn("pool settings saved although the save failed", "err", err)
		return Errorf(Unavailable, "The sizing settings were saved, but storage failed right after; the pool itself was not changed. Please try again in a moment.")
	}
	c.log.Warn("pool settings: save failed and could not be read back", "err", err, "read_err", rerr)
	return Errorf(Unavailable, "Storage failed while saving the sizing settings: they may or may not have been saved, and the pool itself was not changed. Check them on the manager's page before trying again.")
}

// afterDone adds to a failure what the change had done before it.
func afterDone(done []string, err error) error {
	var e *Error
	if len(done) == 0 || !errors.As(err, &e) {
		return err
	}
	msg := strings.TrimSuffix(e.Message, ".") + ". Before that, " + strings.Join(done, " and ") + "."
	return &Error{Code: e.Code, Field: e.Field, Message: msg}
}

// poolError says what failed when the pool refused or failed a change.
func poolError(what string, err error) error {
	if errors.Is(err, pool.ErrNotOwner) {
		return Errorf(Conflict, "This process follows the pool and cannot change it; use the manager (picpool manager or picpool dev).")
	}
	return Errorf(Unavailable, "Could not %s: %v", what, err)
}

// Step grows (+1) or shrinks (-1) the pool by one node by hand, or
// resizes it to n when step is 0. Out of range, or in automatic mode, it
// refuses with a message for people and changes nothing.
func (c *Control) Step(ctx context.Context, step, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	settings, err := c.loadSettings(ctx)
	if err != nil {
		return err
	}
	if settings.Mode == scaling.Auto {
		return Errorf(Conflict, "The pool is sized automatically; switch to Manual to resize it by hand.")
	}
	cur := c.pool.Nodes()
	switch {
	case step > 0 && cur >= scaling.MaxNodes:
		return Errorf(Conflict, "The pool already has %d nodes, the maximum.", cur)
	case step < 0 && cur <= scaling.MinNodes:
		return Errorf(Conflict, "The pool already has %s, the minimum.", NodesWord(cur))
	case step == 0 && (n < scaling.MinNodes || n > scaling.MaxNodes):
		return FieldErrorf(Invalid, "numNodes", "The pool takes %d to %d nodes; it has %d now, and %d is out of range.", scaling.MinNodes, scaling.MaxNodes, cur, n)
	case step != 0:
		n = cur + step
	}
	if err := c.pool.Resize(ctx, n); err != nil {
		return poolError(fmt.Sprintf("resize the pool to %d nodes", n), err)
	}
	return nil
}

// NodesWord writes a number of nodes for people: "1 node", "3 nodes".
func NodesWord(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

// PolicyName is a policy's name in the test API and the messages: LRU and
// RR, as the course's API spelled them, else the upper-cased name.
func PolicyName(canonical string) string {
	if canonical == "random" {
		return "RR"
	}
	return strings.ToUpper(canonical)
}

// PolicyNames are every policy's name in the test API.
func PolicyNames() []string {
	var names []string
	for _, p := range cache.Policies() {
		names = append(names, PolicyName(p))
	}
	return names
}
