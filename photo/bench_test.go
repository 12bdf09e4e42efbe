package photo

import (
	"bytes"
	"image/jpeg"
	"testing"
)

// BenchmarkRendition measures renditions per second on a camera-like
// 12 MP JPEG (4000×3000, quality 92, about 3.5 MB, with an orientation-6
// EXIF segment): one op decodes the original once and makes the display
// size and the thumbnail.
//
//	go test -run '^$' -bench Rendition -benchtime 20x ./photo
//
// "one-at-a-time" is the latency of one upload on an idle machine (the
// resampler uses every core); "all-cores" runs one original per core at
// once, the throughput of a busy gallery. "decode-only" is the share of
// the work that image/jpeg's decoder takes and no resizer can win back:
// no pure-Go JPEG decoder offers libjpeg's DCT scaling (decoding at 1/2,
// 1/4 or 1/8 size).
func BenchmarkRendition(b *testing.B) {
	original := withEXIF(camera12MP(), 6)
	opts := Options{MaxPixels: 4000 * 3000}
	report := func(b *testing.B) {
		perSec := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(perSec, "originals/s")
		b.ReportMetric(2*perSec, "renditions/s")
		b.ReportMetric(0, "ns/op") // the two rates say it
	}
	b.Run("12MP/one-at-a-time", func(b *testing.B) {
		b.SetBytes(int64(len(original)))
		for b.Loop() {
			if _, err := Renditions(original, opts); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("12MP/all-cores", func(b *testing.B) {
		b.SetBytes(int64(len(original)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := Renditions(original, opts); err != nil {
					b.Error(err)
					return
				}
			}
		})
		report(b)
	})
	b.Run("12MP/decode-only", func(b *testing.B) {
		b.SetBytes(int64(len(original)))
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(original)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
