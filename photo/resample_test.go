package photo

import (
	"image"
	"testing"

	"golang.org/x/image/draw"
)

func TestMakeTapsSumToOne(t *testing.T) {
	for _, c := range [][2]int{{4000, 1600}, {1600, 320}, {3, 1}, {1, 1}, {7, 5}, {10, 3}} {
		tp := makeTaps(c[0], c[1])
		for i := range c[1] {
			var sum int32
			for _, w := range tp.w[i*tp.n : (i+1)*tp.n] {
				sum += w
			}
			if sum != weightOne {
				t.Fatalf("%d→%d output %d: weights sum to %d; want %d", c[0], c[1], i, sum, weightOne)
			}
			if s := tp.start[i]; s < 0 || s+tp.n > c[0] {
				t.Fatalf("%d→%d output %d: taps [%d,%d) outside the %d inputs", c[0], c[1], i, s, s+tp.n, c[0])
			}
		}
	}
}

func TestResampleFlatStaysFlat(t *testing.T) {
	p := newPlane(999, 777, 4)
	for i := range p.pix {
		p.pix[i] = 200
	}
	got := resample(p, 321, 250)
	for i, v := range got.pix {
		if v != 200 {
			t.Fatalf("sample %d is %d; want 200 everywhere", i, v)
		}
	}
}

// Catmull-Rom's negative lobes overshoot at edges; in premultiplied RGBA a
// colour must still not exceed its alpha. Half-transparent white beside
// opaque black is the case where it would.
func TestResampleKeepsPremultiplied(t *testing.T) {
	p := newPlane(300, 20, 4)
	for y := range p.h {
		for x := range p.w {
			px := p.pix[y*p.stride+x*4:]
			if (x/7)%2 == 0 {
				copy(px, []byte{128, 128, 128, 128})
			} else {
				copy(px, []byte{0, 0, 0, 255})
			}
		}
	}
	got := resample(p, 131, 9)
	for i := 0; i < len(got.pix); i += 4 {
		if a := got.pix[i+3]; got.pix[i] > a || got.pix[i+1] > a || got.pix[i+2] > a {
			t.Fatalf("pixel %d is %v: a colour above its alpha", i/4, got.pix[i:i+4])
		}
	}
}

// The resampler is measured against golang.org/x/image/draw's CatmullRom,
// a float64 implementation of the same filter, on a camera-like picture
// and on a zone plate, whose fine rings alias into moiré under a filter
// that does not low-pass. The plane resampler must be as close as a
// visually lossless copy (PSNR ≥ 40 dB).
func TestResampleMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  *image.RGBA
	}{
		{"camera", cameraImage(1200, 900)},
		{"zone plate", zonePlate(1200, 900)},
	} {
		for _, side := range []int{500, 100} {
			dr := image.Rect(0, 0, side, side*3/4)
			ref := image.NewRGBA(dr)
			draw.CatmullRom.Scale(ref, dr, tc.img, tc.img.Bounds(), draw.Src, nil)
			got := resize(toRaster(tc.img), dr.Dx(), dr.Dy()).image()
			p := psnr(ref, got)
			t.Logf("%s to %dpx: %.1f dB", tc.name, side, p)
			if p < 40 {
				t.Errorf("%s to %dpx: PSNR %.1f dB against x/image/draw CatmullRom; want ≥ 40", tc.name, side, p)
			}
		}
	}
}
