package cli

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestVarPrecedence(t *testing.T) {
	var out bytes.Buffer
	s := NewSet("x", "does x", env("X_S", "from env", "X_N", "7", "X_B", "yes", "X_D", "2m", "X_F", "0.5"), &out)
	var str, def string
	var n int
	var b bool
	var d time.Duration
	var f float64
	Var(s, &str, "s", "X_S", "default", "a string")
	Var(s, &def, "def", "X_NONE", "default", "a default")
	Var(s, &n, "n", "X_N", 1, "a number")
	Var(s, &b, "b", "X_B", false, "a switch")
	Var(s, &d, "d", "X_D", time.Second, "a duration")
	Var(s, &f, "f", "X_F", 1, "a number")
	if err := s.Parse([]string{"--n", "9"}); err != nil {
		t.Fatal(err)
	}
	if str != "from env" || def != "default" || n != 9 || !b || d != 2*time.Minute || f != 0.5 {
		t.Errorf("got %q %q %d %v %v %v", str, def, n, b, d, f)
	}
}

func TestParseReportsBadEnvironment(t *testing.T) {
	s := NewSet("x", "does x", env("X_N", "seven", "X_B", "maybe"), &bytes.Buffer{})
	var n int
	var b bool
	Var(s, &n, "n", "X_N", 1, "a number")
	Var(s, &b, "b", "X_B", false, "a switch")
	err := s.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), `X_N="seven": want a whole number`) || !strings.Contains(err.Error(), `X_B="maybe": want true or false`) {
		t.Errorf("Parse = %v, want both bad variables named", err)
	}
	if err := NewSet("x", "", env(), &bytes.Buffer{}).Parse([]string{"stray"}); err == nil || !strings.Contains(err.Error(), `unexpected argument "stray"`) {
		t.Errorf("a stray argument: %v", err)
	}
}

func TestHelpNamesTheVariable(t *testing.T) {
	var out bytes.Buffer
	s := NewSet("x", "Does x.", env(), &out)
	var n int
	Var(s, &n, "n", "X_N", 1, "how many")
	if err := s.Parse([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(out.String(), "Usage: picpool x [flags]") || !strings.Contains(out.String(), "how many (env X_N)") {
		t.Errorf("--help printed:\n%s", out.String())
	}
}
