package views

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/picpool/picpool/internal/bytesize"
)

// ImageURL is the path of an image's bytes: /image/{key}, the key
// path-escaped, so that "a b", "ü", "%" and "?" stay part of the key. The
// handler gets the key back with url.PathUnescape of the raw segment (chi
// matches on r.URL.RawPath when it is set). The keys "." and ".." would be
// dot segments that browsers resolve away, escaped or not: the key rules
// refuse them.
func ImageURL(key string) string {
	return "/image/" + url.PathEscape(key)
}

// VersionedImageURL is ImageURL with the content hash as its version
// (?v=), and the rendition (?size=) unless size is "": its bytes never
// change, so the handler lets browsers keep it for a year. With no hash
// (a row stored before hashes were kept, until it is first read) it is
// the plain, revalidated URL.
func VersionedImageURL(key, hash, size string) string {
	v := url.Values{}
	if hash != "" {
		v.Set("v", hash)
	}
	if size != "" {
		v.Set("size", size)
	}
	if len(v) == 0 {
		return ImageURL(key)
	}
	return ImageURL(key) + "?" + v.Encode()
}

// imageSrc is the versioned URL of one of an image's renditions ("" for
// the original).
func imageSrc(im Image, size string) string { return VersionedImageURL(im.Key, im.Hash, size) }

// thumbSrcset offers the 160 px rendition for ordinary screens and the
// 320 px one for screens of twice the density.
func thumbSrcset(im Image) string {
	return imageSrc(im, "small") + " 1x, " + imageSrc(im, "thumb") + " 2x"
}

// ShowURL is the show page of a key: /show?key=K.
func ShowURL(key string) string {
	return "/show?" + url.Values{"key": {key}}.Encode()
}

// KeysURL is a page of the key list: /keys?prefix=P&page=N, leaving out
// an empty prefix and page 1.
func KeysURL(prefix string, page int) string {
	v := url.Values{}
	if prefix != "" {
		v.Set("prefix", prefix)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/keys"
	}
	return "/keys?" + v.Encode()
}

// formatBytes writes a byte count for people, as every other place does
// (package bytesize): "97.7 KiB".
func formatBytes(n int64) string { return bytesize.Format(n) }

// fileHint is the hint under the upload's file field.
func fileHint(maxBytes int64) string {
	if maxBytes <= 0 {
		return "PNG, JPEG, GIF or WebP."
	}
	return "PNG, JPEG, GIF or WebP, up to " + formatBytes(maxBytes) + "."
}

// formatLatency writes a duration with three significant digits in the
// unit that suits it: "840 µs", "1.25 ms", "2.40 s".
func formatLatency(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(d.Nanoseconds(), 10) + " ns"
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	default:
		return sig3(d.Seconds()) + " s"
	}
}

// sig3 formats v (>= 1) with three significant digits.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// formatTime writes a time for a page, to the second, in the time's own
// location (the handler decides which).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// formatShortTime writes a time to the minute, for tight spaces.
func formatShortTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02 15:04")
}

// formatPercent writes a fraction 0..1 as a percentage, "12.5 %".
func formatPercent(f float64) string {
	return strconv.FormatFloat(f*100, 'f', 1, 64) + " %"
}

// formatCount writes an integer with thin groups, "12 345".
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f') // narrow no-break space: groups without a locale's comma or dot
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// retrySeconds is d in whole seconds, rounded up, at least 1.
func retrySeconds(d time.Duration) int64 {
	return max(1, int64(math.Ceil(d.Seconds())))
}

// plural writes n and the noun, with an "s" unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return formatCount(n) + " " + noun + "s"
}
