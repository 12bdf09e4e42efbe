package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// documentedCommands returns the picpool command lines in the shell
// blocks of a Markdown file, split into arguments (a trailing & dropped).
func documentedCommands(t *testing.T, path string) [][]string {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(text), -1) {
		for line := range strings.Lines(strings.ReplaceAll(block[1], "\\\n", " ")) {
			if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "picpool" {
				cmds = append(cmds, strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), "&"))[1:])
			}
		}
	}
	return cmds
}

// TestAWSDeployCommands: the commands deploy/aws/README.md gives for the
// app host use flags that exist, and a graded deployment (away from
// loopback, where no grader sends a token) is told to open the test API
// on both the manager and the gallery.
func TestAWSDeployCommands(t *testing.T) {
	cmds := documentedCommands(t, "deploy/aws/README.md")
	open := map[string]bool{}
	for _, args := range cmds {
		// --help after the flags parses them all and stops: an unknown flag
		// is an error.
		if err := run(t.Context(), append(slices.Clone(args), "--help"), env(), io.Discard); err != nil {
			t.Errorf("picpool %s: %v", strings.Join(args, " "), err)
		}
		if slices.Contains(args, "--open-test-api") {
			open[args[0]] = true
		}
	}
	for _, role := range []string{"manager", "gallery"} {
		if !open[role] {
			t.Errorf("deploy/aws/README.md gives no `picpool %s … --open-test-api` for a graded deployment; commands: %q", role, cmds)
		}
	}
}
