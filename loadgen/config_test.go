package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestParseRatio(t *testing.T) {
	tests := []struct {
		in      string
		want    Ratio
		wantErr string
	}{
		{"80:20", Ratio{80, 20}, ""},
		{" 1 : 0 ", Ratio{1, 0}, ""},
		{"0:5", Ratio{0, 5}, ""},
		{"80", Ratio{}, `--rw "80": want READ:WRITE`},
		{"80:", Ratio{}, "want READ:WRITE"},
		{"a:b", Ratio{}, "want READ:WRITE"},
		{"-1:2", Ratio{}, "want READ:WRITE"},
		{"0.5:0.5", Ratio{}, "want READ:WRITE"},
		{"0:0", Ratio{}, "cannot both be 0"},
		{"2000000:1", Ratio{}, "under 1000000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRatio(tt.in)
			if !errorMatches(err, tt.wantErr) || got != tt.want {
				t.Fatalf("ParseRatio(%q) = %v, %v; want %v, error containing %q", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseSizes(t *testing.T) {
	tests := []struct {
		in      string
		want    Sizes
		wantErr string
	}{
		{"10KB-1MB", Sizes{10 << 10, 1 << 20}, ""},
		{"10kb - 1mb", Sizes{10 << 10, 1 << 20}, ""},
		{"100KB", Sizes{100 << 10, 100 << 10}, ""},
		{"2048-4096B", Sizes{2048, 4096}, ""},
		{"1MB-10KB", Sizes{}, "MIN is larger than MAX"},
		{"100B-1KB", Sizes{}, "at least 1KB"},
		{"1KB-65MB", Sizes{}, "at most 64 MiB"},
		{"ten-KB", Sizes{}, `want MIN-MAX such as 10KB-1MB`},
		{"10GB", Sizes{}, "at most 64 MiB"},
		{"10XB", Sizes{}, `"10XB" is not a size`},
		{"", Sizes{}, "want MIN-MAX"},
		{"0KB-1KB", Sizes{}, "at least 1KB"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSizes(tt.in)
			if !errorMatches(err, tt.wantErr) || got != tt.want {
				t.Fatalf("ParseSizes(%q) = %v, %v; want %v, error containing %q", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		target  string
		remote  bool
		wantErr string
	}{
		{"http://127.0.0.1:5000", false, ""},
		{"http://127.1.2.3:5000/", false, ""},
		{"http://localhost:5000", false, ""},
		{"http://[::1]:5000", false, ""},
		{"https://LOCALHOST", false, ""},
		{"http://10.0.0.5:5000", false, "not on loopback"},
		{"http://example.com", false, "--allow-remote"},
		{"http://localhost.example.com:5000", false, "not on loopback"},
		{"http://[::ffff:8.8.8.8]:5000", false, "not on loopback"},
		{"http://0.0.0.0:5000", false, "not on loopback"},
		{"http://example.com", true, ""},
		{"ftp://127.0.0.1", false, "want a URL such as"},
		{"127.0.0.1:5000", false, "want a URL such as"},
		{"http://user:pw@127.0.0.1:5000", false, "base URL only"},
		{"http://127.0.0.1:5000/?x=1", false, "base URL only"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			_, err := CheckTarget(tt.target, tt.remote)
			if !errorMatches(err, tt.wantErr) {
				t.Fatalf("CheckTarget(%q, %v) = %v, want an error containing %q", tt.target, tt.remote, err, tt.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cfg := Config{Duration: 0, Concurrency: 0, Keys: 0, Scenario: "nope", Report: "out.txt"}
	err := cfg.Validate()
	for _, want := range []string{"--duration 0s", "--concurrency 0", "--keys 0", `--scenario "nope": want one of autoscale, mix,`, `--report "out.txt"`} {
		if !errorMatches(err, want) {
			t.Errorf("Validate() = %v, want it to name %q", err, want)
		}
	}
	ok := Config{Duration: time.Second, Concurrency: 1, Keys: 1, Report: "r.HTML"}
	if err := ok.Validate(); err != nil || ok.Scenario != "mix" || ok.Out == nil {
		t.Fatalf("Validate() of a good config = %v (scenario %q)", err, ok.Scenario)
	}
}

// errorMatches reports whether err contains want, or is nil when want is "".
func errorMatches(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}
