package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"}, {1, "1 byte"}, {300, "300 bytes"}, {1024, "1 KiB"},
		{100_000, "97.7 KiB"}, {10 << 20, "10 MiB"}, {1<<20 + 1<<19, "1.5 MiB"}, {1 << 30, "1 GiB"},
	} {
		if got := Format(tt.n); got != tt.want {
			t.Errorf("Format(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"65536", 65536}, {"256MB", 256 << 20}, {"1 GiB", 1 << 30}, {"10kb", 10 << 10},
		{"10KB", 10 << 10}, {"3m", 3 << 20}, {" 7 B ", 7}, {"2 bytes", 2}, {"1TB", 1 << 40},
	} {
		if got, err := Parse(tt.in); err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "MB", "-1", "1.5MB", "ten", "1 XB", "99999999999TB"} {
		if got, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", bad, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "10MB", "1 GiB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("Parse(%q) = %d: negative", s, n)
		}
		if back, err := Parse(Format(n)); err == nil && n < 1024 && back != n {
			t.Fatalf("Parse(Format(%d)) = %d", n, back)
		}
	})
}
