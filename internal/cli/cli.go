// Package cli reads a command's flags, each of which may take its default
// from a PICPOOL_* environment variable (a flag given on the command line
// wins), and prints --help that names every flag's variable.
package cli

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Set is one command's flags.
type Set struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []string // environment values that did not parse
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
	~string | ~int | ~bool | time.Duration | ~float64
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
	return nil
}
