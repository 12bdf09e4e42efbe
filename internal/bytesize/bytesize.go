// Package bytesize is PicPool's one way to write and read sizes in bytes
// for people: binary units throughout (a KB, like the manager's MB, is
// 1024 bytes), so that a flag, a form, a page and a report agree.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// MiB is a mebibyte: the unit of every capacity and limit given in "MB".
const MiB = 1 << 20

// Format writes n in the largest binary unit below it, with one decimal
// where it is not whole: "300 bytes", "97.7 KiB", "10 MiB", "1 GiB".
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		if n == 1 {
			return "1 byte"
		}
		return strconv.FormatInt(n, 10) + " bytes"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64)
	return strings.TrimSuffix(v, ".0") + " " + string("KMGTPE"[exp]) + "iB"
}

// units are the suffixes Parse takes, longest first; every one is a power
// of 1024.
var units = []struct {
	suffix string
	shift  uint
}{
	{"tib", 40}, {"gib", 30}, {"mib", 20}, {"kib", 10},
	{"tb", 40}, {"gb", 30}, {"mb", 20}, {"kb", 10},
	{"t", 40}, {"g", 30}, {"m", 20}, {"k", 10},
	{"bytes", 0}, {"byte", 0}, {"b", 0},
}

// Parse reads a whole number of bytes with an optional unit, in any
// letter case and with or without a space: "65536", "256MB", "1 GiB",
// "10kb". Every unit is a power of 1024.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	shift := uint(0)
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, shift = strings.TrimSpace(num), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a size: want a whole number of bytes with an optional unit, such as 256MB, 1GB or 65536", strings.TrimSpace(s))
	}
	return n << shift, nil
}

// Size is a size in bytes that reads and writes itself as text, for
// flags ("10MB").
type Size int64

// UnmarshalText parses text with Parse.
func (s *Size) UnmarshalText(text []byte) error {
	n, err := Parse(string(text))
	*s = Size(n)
	return err
}

// MarshalText writes the size with Format.
func (s Size) MarshalText() ([]byte, error) { return []byte(Format(int64(s))), nil }

// List is sizes separated by commas ("256MB,1GB").
type List []int64

// UnmarshalText parses each size with Parse.
func (l *List) UnmarshalText(text []byte) error {
	*l = nil
	for part := range strings.SplitSeq(string(text), ",") {
		n, err := Parse(part)
		if err != nil {
			return err
		}
		*l = append(*l, n)
	}
	return nil
}

// MarshalText writes the sizes with Format, separated by commas.
func (l List) MarshalText() ([]byte, error) {
	parts := make([]string, len(l))
	for i, n := range l {
		parts[i] = Format(n)
	}
	return []byte(strings.Join(parts, ",")), nil
}
