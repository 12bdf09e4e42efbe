// Package cli reads a command's flags, each of which may take its default
// from a PICPOOL_* environment variable (a flag given on the command line
// wins), and prints --help that names every flag's variable.
package cli

import (
	"cmp"
	"encoding"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Set is one command's flags.
type Set struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []string       // environment values that did not parse
	checks []func() error // the bounds of the flags that have them
}

// NewSet returns the flags of `picpool name`; synopsis heads --help.
func NewSet(name, synopsis string, getenv func(string) string, out io.Writer) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: picpool %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return &Set{fs: fs, getenv: getenv}
}

// Value is what a flag can hold.
type Value interface {
	~string | ~int | ~uint64 | ~bool | time.Duration | ~float64
}

// Var defines a flag named name that sets *p: from the command line, else
// from the environment variable env (if env is not ""), else def.
func Var[T Value](s *Set, p *T, name, env string, def T, help string) {
	v := def
	if raw := s.lookup(env); raw != "" {
		if parsed, err := parse[T](raw); err != nil {
			s.errs = append(s.errs, fmt.Sprintf("%s=%q: %v", env, raw, err))
		} else {
			v = parsed
		}
	}
	if env != "" {
		help += " (env " + env + ")"
	}
	switch p := any(p).(type) {
	case *string:
		s.fs.StringVar(p, name, any(v).(string), help)
	case *int:
		s.fs.IntVar(p, name, any(v).(int), help)
	case *bool:
		s.fs.BoolVar(p, name, any(v).(bool), help)
	case *time.Duration:
		s.fs.DurationVar(p, name, any(v).(time.Duration), help)
	case *float64:
		s.fs.Float64Var(p, name, any(v).(float64), help)
	case *uint64:
		s.fs.Uint64Var(p, name, any(v).(uint64), help)
	}
}

func (s *Set) lookup(env string) string {
	if env == "" {
		return ""
	}
	return s.getenv(env)
}

// parse reads an environment variable's text as a T.
func parse[T Value](raw string) (T, error) {
	var zero T
	var v any
	var err error
	switch any(zero).(type) {
	case string:
		v = raw
	case int:
		v, err = strconv.Atoi(raw)
		if err != nil {
			err = fmt.Errorf("want a whole number")
		}
	case bool:
		switch strings.ToLower(raw) {
		case "1", "true", "yes", "on":
			v = true
		case "0", "false", "no", "off":
			v = false
		default:
			err = fmt.Errorf("want true or false")
		}
	case time.Duration:
		v, err = time.ParseDuration(raw)
		if err != nil {
			err = fmt.Errorf("want a duration such as 60s")
		}
	case uint64:
		v, err = strconv.ParseUint(raw, 10, 64)
		if err != nil {
			err = fmt.Errorf("want a whole number")
		}
	case float64:
		v, err = strconv.ParseFloat(raw, 64)
		if err != nil {
			err = fmt.Errorf("want a number")
		}
	}
	if err != nil {
		return zero, err
	}
	return v.(T), nil
}

// Parse reads args; it also reports the environment values that did not
// parse, and any argument that is not a flag. flag.ErrHelp means --help
// was asked for and printed.
func (s *Set) Parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	if s.fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (flags start with --)", s.fs.Name(), s.fs.Arg(0))
	}
	if len(s.errs) > 0 {
		return fmt.Errorf("%s: %s", s.fs.Name(), strings.Join(s.errs, "; "))
	}
	for _, check := range s.checks {
		if err := check(); err != nil {
			return fmt.Errorf("%s: %w", s.fs.Name(), err)
		}
	}
	return nil
}

// TextValue is a flag's value that reads and writes itself as text (a
// ratio, a size, a list).
type TextValue interface {
	encoding.TextMarshaler
	encoding.TextUnmarshaler
}

// Text defines a flag named name that sets *p from its text: from the
// command line, else from the environment variable env (if env is not
// ""), else def.
func Text(s *Set, p TextValue, name, env, def, help string) {
	raw := def
	if v := s.lookup(env); v != "" {
		raw = v
	}
	if err := p.UnmarshalText([]byte(raw)); err != nil {
		s.errs = append(s.errs, fmt.Sprintf("%s=%q: %v", env, raw, err))
	}
	if env != "" {
		help += " (env " + env + ")"
	}
	s.fs.TextVar(p, name, p, help)
}

// List is a comma-separated list of words.
type List []string

// UnmarshalText splits text at commas, trimming spaces.
func (l *List) UnmarshalText(text []byte) error {
	*l = nil
	for w := range strings.SplitSeq(string(text), ",") {
		if w = strings.TrimSpace(w); w != "" {
			*l = append(*l, w)
		}
	}
	return nil
}

// MarshalText joins the list with commas.
func (l List) MarshalText() ([]byte, error) { return []byte(strings.Join(l, ",")), nil }

// Logger returns a text logger on w at level ("debug", "info", "warn" or
// "error"), the value of a --log-level flag.
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Def is one row of a flag table: a flag, and the roles (a bit set of the
// caller's) of the commands that take it.
type Def struct {
	roles uint
	add   func(*Set)
}

// Of is a table row for a flag of a plain value (see Var).
func Of[T Value](roles uint, p *T, name, env string, value T, help string) Def {
	return Def{roles, func(s *Set) { Var(s, p, name, env, value, help) }}
}

// OfText is a table row for a flag of a text value (see Text).
func OfText(roles uint, p TextValue, name, env, value, help string) Def {
	return Def{roles, func(s *Set) { Text(s, p, name, env, value, help) }}
}

// Ordered is what a bounded flag can hold.
type Ordered interface {
	Value
	cmp.Ordered
}

// OfMin is a table row for a flag whose value must be at least lo.
func OfMin[T Ordered](roles uint, p *T, name, env string, value, lo T, help string) Def {
	return bounded(roles, p, name, env, value, help, func() error {
		if *p < lo {
			return fmt.Errorf("--%s must be at least %v; got %v", name, lo, *p)
		}
		return nil
	})
}

// OfRange is a table row for a flag whose value must be from lo to hi.
func OfRange[T Ordered](roles uint, p *T, name, env string, value, lo, hi T, help string) Def {
	return bounded(roles, p, name, env, value, help, func() error {
		if *p < lo || *p > hi {
			return fmt.Errorf("--%s must be from %v to %v; got %v", name, lo, hi, *p)
		}
		return nil
	})
}

func bounded[T Ordered](roles uint, p *T, name, env string, value T, help string, check func() error) Def {
	return Def{roles, func(s *Set) {
		Var(s, p, name, env, value, help)
		s.checks = append(s.checks, check)
	}}
}

// Add defines on s the flags of table that a command of role takes.
func (s *Set) Add(table []Def, role uint) {
	for _, d := range table {
		if d.roles&role != 0 {
			d.add(s)
		}
	}
}
