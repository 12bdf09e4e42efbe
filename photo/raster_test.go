package photo

import (
	"image"
	"image/color"
	"testing"
)

// Every chroma subsampling a JPEG may use comes out as a 4:2:0 raster
// with planes of the sizes image.YCbCr expects, colours intact, for odd
// sizes too.
func TestResizeYCbCrSubsampling(t *testing.T) {
	want := color.YCbCr{Y: 150, Cb: 90, Cr: 170}
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		src := image.NewYCbCr(image.Rect(0, 0, 101, 77), ratio)
		for i := range src.Y {
			src.Y[i] = want.Y
		}
		for i := range src.Cb {
			src.Cb[i], src.Cr[i] = want.Cb, want.Cr
		}
		for _, o := range []int{1, 6} {
			r := orient(resize(toRaster(src), 51, 39), o)
			m, ok := r.image().(*image.YCbCr)
			if !ok || m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
				t.Fatalf("%v, orientation %d: got %T; want 4:2:0 YCbCr", ratio, o, r.image())
			}
			b := m.Bounds()
			cw, ch := chromaSize(b.Dx(), b.Dy(), image.YCbCrSubsampleRatio420)
			if m.YStride < b.Dx() || len(m.Y) < (b.Dy()-1)*m.YStride+b.Dx() || m.CStride != cw ||
				len(m.Cb) != ch*cw || len(m.Cr) != ch*cw {
				t.Errorf("%v, orientation %d: planes Y %d/%d, C %d/%d do not fit a %v 4:2:0 image", ratio, o, len(m.Y), m.YStride, len(m.Cb), m.CStride, b)
			}
			for _, p := range []image.Point{{0, 0}, {b.Max.X - 1, b.Max.Y - 1}, {b.Max.X / 2, b.Max.Y / 2}} {
				if got := m.YCbCrAt(p.X, p.Y); got != want {
					t.Errorf("%v, orientation %d: at %v got %v; want %v", ratio, o, p, got, want)
				}
			}
		}
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct{ w, h, max, wantW, wantH int }{
		{4000, 3000, 1600, 1600, 1200},
		{3000, 4000, 320, 240, 320},
		{1600, 1200, 1600, 1600, 1200},
		{200, 100, 320, 200, 100},
		{1, 5000, 320, 1, 320},
		{5000, 1, 320, 320, 1},
		{333, 333, 320, 320, 320},
		{1, 1, 320, 1, 1},
	} {
		if w, h := fit(tc.w, tc.h, tc.max); w != tc.wantW || h != tc.wantH {
			t.Errorf("fit(%d, %d, %d) = %d, %d; want %d, %d", tc.w, tc.h, tc.max, w, h, tc.wantW, tc.wantH)
		}
	}
}

// Tiny and thin originals, turned or not, give valid renditions.
func TestRenditionsTinyImages(t *testing.T) {
	for _, tc := range []struct {
		w, h, orientation, wantW, wantH int
	}{
		{1, 1, 6, 1, 1},
		{2, 1, 6, 1, 2},
		{1, 3000, 1, 1, 320},
		{3000, 2, 8, 1, 320},
	} {
		m := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
		for i := range m.Pix {
			m.Pix[i] = 0xC0
		}
		rs, err := Renditions(withEXIF(mustJPEG(m, 90), tc.orientation), Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
		if err != nil {
			t.Fatalf("%dx%d: %v", tc.w, tc.h, err)
		}
		if rs[0].Width != tc.wantW || rs[0].Height != tc.wantH {
			t.Errorf("%dx%d orientation %d: got %dx%d; want %dx%d", tc.w, tc.h, tc.orientation, rs[0].Width, rs[0].Height, tc.wantW, tc.wantH)
		}
		decodeRendition(t, rs[0])
	}
}
