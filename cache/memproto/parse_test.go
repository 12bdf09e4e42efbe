package memproto

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitFields(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"get a", []string{"get", "a"}},
		{"  get   a  b ", []string{"get", "a", "b"}},
		{"set a\tb 0", []string{"set", "a\tb", "0"}}, // only spaces separate
	}
	for _, tt := range tests {
		var got []string
		for _, f := range splitFields(nil, []byte(tt.line)) {
			got = append(got, string(f))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitFields(%q) (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestTrimEOL(t *testing.T) {
	for in, want := range map[string]string{"get a\r\n": "get a", "get a\n": "get a", "get a\r\r\n": "get a\r", "\r\n": "", "\n": ""} {
		if got := string(trimEOL([]byte(in))); got != want {
			t.Errorf("trimEOL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"a", true},
		{strings.Repeat("k", MaxKeyBytes), true},
		{"ünï/cödé:1", true},
		{"", false},
		{strings.Repeat("k", MaxKeyBytes+1), false},
		{"a b", false},
		{"a\tb", false},
		{"a\x00b", false},
		{"a\x7fb", false},
		{"a\rb", false},
	}
	for _, tt := range tests {
		if got := validKey([]byte(tt.key)); got != tt.want {
			t.Errorf("validKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestDecodeKey(t *testing.T) {
	tests := []struct {
		field string
		b64   bool
		want  string
		ok    bool
	}{
		{"plain", false, "plain", true},
		{"bWVtYw==", true, "memc", true},
		{"YSBiIGM=", true, "a b c", true}, // base64 carries what text cannot
		{"***", true, "", false},
		{"", true, "", false},
		{"YQ", true, "", false}, // unpadded
	}
	for _, tt := range tests {
		got, ok := decodeKey([]byte(tt.field), tt.b64)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("decodeKey(%q, %v) = %q, %v; want %q, %v", tt.field, tt.b64, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	uints := []struct {
		in    string
		limit uint64
		want  uint64
		ok    bool
	}{
		{"0", 10, 0, true},
		{"18446744073709551615", 1<<64 - 1, 1<<64 - 1, true},
		{"18446744073709551616", 1<<64 - 1, 0, false},
		{"99999999999999999999", 1<<64 - 1, 0, false},
		{"11", 10, 11, false},
		{"", 10, 0, false},
		{"+1", 10, 0, false},
		{"-1", 10, 0, false},
		{"1 ", 10, 0, false},
	}
	for _, tt := range uints {
		got, ok := parseUint([]byte(tt.in), tt.limit)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parseUint(%q, %d) = %d, %v; want %d, %v", tt.in, tt.limit, got, ok, tt.want, tt.ok)
		}
	}
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{{"-1", -1, true}, {"9223372036854775807", 1<<63 - 1, true}, {"-", 0, false}, {"--1", 0, false}, {"9223372036854775808", 0, false}}
	for _, tt := range ints {
		got, ok := parseInt([]byte(tt.in))
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := parseFlags([]byte("4294967296")); ok {
		t.Error("parseFlags took a 33-bit number")
	}
	if _, ok := parseLength([]byte("2147483648")); ok {
		t.Error("parseLength took a length past 2^31-1")
	}
}

func TestExpiry(t *testing.T) {
	const now = 1_700_000_000
	tests := []struct {
		t        int64
		wantAbs  int64
		wantDead bool
	}{
		{0, 0, false},
		{-1, 0, true},
		{1, now + 1, false},
		{maxRelativeExptime, now + maxRelativeExptime, false},
		{maxRelativeExptime + 1, 0, true}, // an absolute time in 1970
		{now, 0, true},
		{now + 5, now + 5, false},
	}
	for _, tt := range tests {
		abs, dead := expiry(tt.t, now)
		if abs != tt.wantAbs || dead != tt.wantDead {
			t.Errorf("expiry(%d) = %d, %v; want %d, %v", tt.t, abs, dead, tt.wantAbs, tt.wantDead)
		}
	}
	if !expired(now, now) || expired(now+1, now) || expired(0, now) {
		t.Error("expired: an item is gone at its expiry time, never when it has none")
	}
	if ttlLeft(0, now) != -1 || ttlLeft(now+7, now) != 7 || ttlLeft(now-7, now) != 0 {
		t.Error("ttlLeft: -1 without expiry, else the seconds left, never below 0")
	}
}

func TestParseCounter(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{{"10", 10, true}, {" 1", 1, true}, {"1 2", 1, true}, {"99 ", 99, true}, {"1x", 0, false}, {"", 0, false}, {"x", 0, false}, {"-1", 0, false}}
	for _, tt := range tests {
		got, ok := parseCounter([]byte(tt.in))
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parseCounter(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzCommandLine feeds any bytes to a connection as its input: a
// command line and whatever follows. Whatever comes in, the server must
// not panic, must answer in whole lines, and must keep its backend's
// invariants (items it holds are readable and within the value limit).
func FuzzCommandLine(f *testing.F) {
	for _, c := range append(classicCases, metaCases...) {
		if len(c.in) < 4096 {
			f.Add([]byte(c.in))
		}
	}
	for _, s := range authSteps {
		f.Add([]byte(s.in))
	}
	f.Add([]byte("ms k 3 E9 T5 F1 c k O1 b\r\nabc\r\nmd k E10 T1 q\r\nma k N0 J7 v t c\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := NewEngineBackend("lru", 1<<20, EngineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, token := range []string{"", "tok"} {
			s := NewServer(b, Options{Token: token, MaxValueBytes: 4096, MaxLineBytes: 1024})
			c := &conn{s: s, br: bufio.NewReaderSize(bytes.NewReader(in), 64), authed: token == ""}
			for c.err == nil {
				line, err := c.readLine()
				if err != nil || !c.serve(line) {
					break
				}
			}
			var out bytes.Buffer
			if _, err := c.out.flush(&out); err != nil {
				t.Fatal(err)
			}
			if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\r\n")) {
				t.Fatalf("reply does not end a line: %q", out.Bytes())
			}
		}
		b.Range(func(key string, it Item) bool {
			if len(it.Value.B) > 4096 || key == "" || len(key) > MaxKeyBytes {
				t.Fatalf("backend holds %q with %d bytes", key, len(it.Value.B))
			}
			return true
		})
	})
}
