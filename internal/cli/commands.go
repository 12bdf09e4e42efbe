package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Command is one subcommand: its name, its line in the program's help,
// the synopsis that heads its own --help, the flags it takes, and what it
// runs once they are read.
type Command struct {
	Name, Summary, Synopsis string
	Flags                   func(s *Set)
	Run                     func(ctx context.Context) error
}

// Run runs the command args[0] names, with the flags in args[1:]: it
// prints the program's help for "--help" and for a missing or unknown
// command (an error then), and a command's own for its --help.
func Run(ctx context.Context, program string, commands []Command, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		usage(program, commands, stdout)
		return errors.New("no command given")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(program, commands, stdout)
		return nil
	}
	for _, c := range commands {
		if c.Name != args[0] {
			continue
		}
		s := NewSet(c.Name, c.Synopsis, getenv, stdout)
		c.Flags(s)
		if err := s.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
			return nil // the command printed its usage, as asked
		} else if err != nil {
			return err
		}
		if err := c.Run(ctx); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		return nil
	}
	usage(program, commands, stdout)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(program string, commands []Command, w io.Writer) {
	fmt.Fprintf(w, "%s\n\nUsage: picpool <command> [flags]\n\nCommands:\n", program)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.Name, c.Summary)
	}
	fmt.Fprint(w, "\nRun 'picpool <command> --help' for the flags of one command. Every flag can also be\n"+
		"set through the environment variable named in its help (flags win).\n")
}
