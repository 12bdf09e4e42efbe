// Package loadgen drives a PicPool server over its test API (/api) and
// measures what it does: latency and throughput per request type, cache
// hits from X-Cache, failures by status and message, and the pool's size
// and miss rate where a scenario changes them. It talks to PicPool only
// over HTTP, as any outside client would, so it imports no project package
// but assets (for the ECharts script its report inlines).
package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/picpool/picpool/internal/bytesize"
)

// Limits that keep a run bounded whatever the flags say.
const (
	MaxKeys        = 100_000
	MaxConcurrency = 1024
	MaxDuration    = 24 * time.Hour
	MaxImageBytes  = 64 << 20
	// MaxSamples bounds the requests one run records (8 bytes of latency
	// and a few more each); a run that reaches it stops early and says so.
	MaxSamples = 5_000_000
)

// Config is one run of the load generator.
type Config struct {
	Target      string        // base URL of a gallery or manager, e.g. http://127.0.0.1:5000
	Duration    time.Duration // the whole run; a scenario splits it among its sub-runs
	Concurrency int           // workers sending requests at once
	Ratio       Ratio         // reads to writes
	Keys        int           // distinct keys uploaded and then read and written
	Sizes       Sizes         // sizes of the generated images
	ImagesDir   string        // use the images in this folder instead of generating them
	Scenario    string        // one of Scenarios(); "" is "mix"
	Report      string        // HTML report path ("" for none); the CSV goes beside it
	AllowRemote bool          // allow a target that is not on loopback
	Token       string        // bearer token for the state-changing routes, when the target needs one
	Seed        uint64        // seeds key choice and image content: the same seed, the same requests
	Out         io.Writer     // progress and the final tables
	Terminal    bool          // Out is a terminal: progress rewrites one line
}

// Ratio is a read:write mix such as 80:20.
type Ratio struct{ Read, Write int }

// UnmarshalText reads a ratio with ParseRatio, for flags.
func (r *Ratio) UnmarshalText(text []byte) (err error) {
	*r, err = ParseRatio(string(text))
	return err
}

// MarshalText writes a ratio as ParseRatio reads it.
func (r Ratio) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r Ratio) String() string { return fmt.Sprintf("%d:%d", r.Read, r.Write) }

// ParseRatio reads "READ:WRITE" (whole numbers, not both 0).
func ParseRatio(s string) (Ratio, error) {
	bad := fmt.Errorf("--rw %q: want READ:WRITE in whole numbers, such as 80:20", s)
	rs, ws, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Ratio{}, bad
	}
	r, err1 := strconv.Atoi(strings.TrimSpace(rs))
	w, err2 := strconv.Atoi(strings.TrimSpace(ws))
	if err1 != nil || err2 != nil || r < 0 || w < 0 {
		return Ratio{}, bad
	}
	if r == 0 && w == 0 {
		return Ratio{}, fmt.Errorf("--rw %q: reads and writes cannot both be 0", s)
	}
	if r > 1_000_000 || w > 1_000_000 {
		return Ratio{}, fmt.Errorf("--rw %q: keep each side under 1000000", s)
	}
	return Ratio{r, w}, nil
}

// Sizes is the range of generated image sizes, in bytes.
type Sizes struct{ Min, Max int64 }

// UnmarshalText reads sizes with ParseSizes, for flags.
func (s *Sizes) UnmarshalText(text []byte) (err error) {
	*s, err = ParseSizes(string(text))
	return err
}

// MarshalText writes sizes as ParseSizes reads them.
func (s Sizes) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s Sizes) String() string {
	if s.Min == s.Max {
		return bytesize.Format(s.Min)
	}
	return bytesize.Format(s.Min) + "-" + bytesize.Format(s.Max)
}

// ParseSizes reads "MIN-MAX" or one size, each a whole number with an
// optional unit B, KB or MB (KB = 1024 bytes, MB = 1024 KB, as the
// server's upload limit counts them: see bytesize.Parse).
func ParseSizes(s string) (Sizes, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	if !isRange {
		hi = lo
	}
	min, err := bytesize.Parse(lo)
	max, err2 := bytesize.Parse(hi)
	if isRange {
		err = errors.Join(err, err2)
	}
	if err != nil {
		return Sizes{}, fmt.Errorf("--sizes %q: want MIN-MAX such as 10KB-1MB (units B, KB, MB): %w", s, err)
	}
	switch {
	case min < 1024:
		return Sizes{}, fmt.Errorf("--sizes %q: the smallest image must be at least 1KB", s)
	case max > MaxImageBytes:
		return Sizes{}, fmt.Errorf("--sizes %q: the largest image must be at most %s", s, bytesize.Format(MaxImageBytes))
	case min > max:
		return Sizes{}, fmt.Errorf("--sizes %q: MIN is larger than MAX", s)
	}
	return Sizes{min, max}, nil
}

// CheckTarget parses the target URL and refuses one that is not on
// loopback unless allowRemote: a load test against someone's server by
// a typo would be an attack, and it changes the pool's configuration.
func CheckTarget(target string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(target), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--target %q: want a URL such as http://127.0.0.1:5000", target)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--target %q: give the server's base URL only (no user, query or fragment)", target)
	}
	if !allowRemote && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("--target %q is not on loopback (127.0.0.0/8, ::1, localhost): "+
			"loadgen sends heavy traffic and reconfigures the cache pool, so it refuses other hosts "+
			"unless you pass --allow-remote", target)
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate checks the numbers of c (the parsers check the rest) and fills
// defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.Duration <= 0 || c.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("--duration %s: want more than 0 and at most %s", c.Duration, MaxDuration))
	}
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("--concurrency %d: want 1 to %d", c.Concurrency, MaxConcurrency))
	}
	if c.Keys < 1 || c.Keys > MaxKeys {
		errs = append(errs, fmt.Errorf("--keys %d: want 1 to %d", c.Keys, MaxKeys))
	}
	if c.Scenario == "" {
		c.Scenario = "mix"
	}
	if _, ok := scenarios[c.Scenario]; !ok {
		errs = append(errs, fmt.Errorf("--scenario %q: want one of %s", c.Scenario, strings.Join(Scenarios(), ", ")))
	}
	if c.Report != "" && !strings.HasSuffix(strings.ToLower(c.Report), ".html") {
		errs = append(errs, fmt.Errorf("--report %q: want a file name ending in .html (the CSV is written beside it)", c.Report))
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return errors.Join(errs...)
}
