// Command picpool is a photo gallery served through an elastic pool of
// in-memory cache nodes. One binary, several roles: see `picpool --help`.
//
// This package is the composition root: configuration, flag parsing and
// wiring live here and nowhere else; the packages it wires take their
// dependencies as arguments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "picpool:", err)
		os.Exit(1)
	}
}

// command is one subcommand of picpool.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error
}

// commands lists the subcommands in the order --help shows them.
func commands() []command {
	return []command{
		{"dev", "run everything in one process on embedded defaults (gallery :5000, manager :5001, local nodes)", runDev},
		{"gallery", "serve the gallery's pages and the test API (:5000), following the pool the manager owns", runGallery},
		{"manager", "serve the operator's console and the test API (:5001); owns the pool", runManager},
		{"node", "serve one cache node (:5100, binary data path :5101)", runNode},
		{"autoscaler", "run the autoscaler on its own (resizes the pool from its miss rate)", runAutoscaler},
		{"loadgen", "load a server through its test API; latency and throughput tables and an HTML report", runLoadgen},
		{"simulate", "replay a trace (or a generated Zipf workload) through the cache engines: hit and byte hit ratios", runSimulate},
	}
}

// run is main without the process: tests call it with their own arguments,
// environment and output, and cancel ctx to stop it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		usage(stdout)
		return errors.New("no command given")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], getenv, stdout)
			if errors.Is(err, flag.ErrHelp) {
				return nil // the command printed its usage, as asked
			}
			return err
		}
	}
	usage(stdout)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, "picpool: a photo gallery served through an elastic pool of in-memory cache nodes.\n\n")
	fmt.Fprint(w, "Usage: picpool <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'picpool <command> --help' for the flags of one command. Every flag can also be\n"+
		"set through the environment variable named in its help (flags win).\n")
}

// flags is a flag set whose defaults can come from the environment: each
// flag names a PICPOOL_* variable, and --help shows both.
type flags struct {
	*flag.FlagSet
	getenv func(string) string
	errs   []string
}

func newFlags(name, synopsis string, getenv func(string) string, stdout io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: picpool %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return &flags{FlagSet: fs, getenv: getenv}
}

// env returns the environment's value for a flag, or def.
func (f *flags) env(name, def string) string {
	if v := f.getenv(name); v != "" {
		return v
	}
	return def
}

func (f *flags) string(name, env, def, help string) *string {
	return f.String(name, f.env(env, def), help+" (env "+env+")")
}

func (f *flags) bool(name, env string, def bool, help string) *bool {
	v := def
	if s := f.getenv(env); s != "" {
		switch strings.ToLower(s) {
		case "1", "true", "yes", "on":
			v = true
		case "0", "false", "no", "off":
			v = false
		default:
			f.errs = append(f.errs, fmt.Sprintf("%s=%q: want true or false", env, s))
		}
	}
	return f.Bool(name, v, help+" (env "+env+")")
}

// parse parses args; it also reports environment values that did not parse.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (flags start with --)", f.Name(), f.Arg(0))
	}
	if len(f.errs) > 0 {
		return fmt.Errorf("%s: %s", f.Name(), strings.Join(f.errs, "; "))
	}
	return nil
}

func (f *flags) duration(name, env string, def time.Duration, help string) *time.Duration {
	v := def
	if s := f.getenv(env); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			f.errs = append(f.errs, fmt.Sprintf("%s=%q: want a duration such as 60s", env, s))
		} else {
			v = d
		}
	}
	return f.Duration(name, v, help+" (env "+env+")")
}
