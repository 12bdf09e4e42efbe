package photo

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"golang.org/x/image/draw"
)

// BenchmarkResize12MP compares ways to take a decoded 12 MP JPEG (YCbCr
// 4:2:0) to 1600×1200 RGBA-or-YCbCr pixels, the display rendition's
// resize. Quality against x/image/draw's CatmullRom is in
// TestResampleMatchesReference (this resampler: 52–56 dB PSNR);
// ApproxBiLinear, the fast x/image/draw option, drops every other source
// pixel: 37 dB on the camera picture and 15 dB (heavy moiré) on a zone
// plate.
//
//	go test -run '^$' -bench Resize12MP -benchtime 5x ./photo
func BenchmarkResize12MP(b *testing.B) {
	src, err := jpeg.Decode(bytes.NewReader(camera12MP()))
	if err != nil {
		b.Fatal(err)
	}
	dr := image.Rect(0, 0, 1600, 1200)
	b.Run("photo-CatmullRom-planes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resize(toRaster(src), dr.Dx(), dr.Dy())
		}
	})
	for _, k := range []struct {
		name string
		s    draw.Scaler
	}{
		{"xdraw-CatmullRom", draw.CatmullRom},
		{"xdraw-BiLinear", draw.BiLinear},
		{"xdraw-ApproxBiLinear", draw.ApproxBiLinear},
	} {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.s.Scale(image.NewRGBA(dr), dr, src, src.Bounds(), draw.Src, nil)
			}
		})
	}
}
