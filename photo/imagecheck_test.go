package photo

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"net/http"
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/picpool/picpool/internal/testimg"
)

// testLimits are small limits, so that bombs are cheap to make.
var testLimits = Limits{MaxBytes: 4 << 20, MaxPixels: 1_500_000}

// checkUpload checks data against testLimits.
func checkUpload(t *testing.T, data []byte) (string, *Refusal) {
	t.Helper()
	ct, err := NewChecker(testLimits).Check(t.Context(), data)
	if err == nil {
		return ct, nil
	}
	return ct, err.(*Refusal)
}

func TestCheckImageAccepts(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 30, 20))
	deep := image.NewNRGBA64(image.Rect(0, 0, 30, 20))
	tests := []struct {
		name, want string
		data       []byte
	}{
		{"png", "image/png", testimg.EncodePNG(t, testimg.Noise(40, 30))},
		{"grey png", "image/png", testimg.EncodePNG(t, gray)},
		{"16-bit png", "image/png", testimg.EncodePNG(t, deep)},
		{"png with trailing bytes", "image/png", testimg.PaddedPNG(t, 1000)},
		{"jpeg", "image/jpeg", testimg.EncodeJPEG(t, testimg.Noise(40, 30))},
		{"progressive jpeg", "image/jpeg", testimg.ProgressiveJPEG(40, 30, 3)},
		{"progressive cmyk jpeg", "image/jpeg", testimg.ProgressiveJPEG(40, 30, 4)},
		{"grey jpeg", "image/jpeg", testimg.EncodeJPEG(t, gray)},
		{"gif", "image/gif", testimg.EncodeGIF(t, testimg.Noise(40, 30))},
		{"animated gif", "image/gif", testimg.EncodeGIF(t, testimg.Noise(40, 30), testimg.Noise(40, 30), testimg.Noise(40, 30))},
		{"webp", "image/webp", testimg.WebPStill(testimg.VP8L(40, 30, color.NRGBA{1, 2, 3, 255}, true))},
		{"solid webp", "image/webp", testimg.WebPStill(testimg.VP8L(1000, 1000, color.NRGBA{1, 2, 3, 255}, false))},
		{"animated webp", "image/webp", testimg.WebPAnimated(40, 30, testimg.SolidFrame(40, 30), testimg.SolidFrame(20, 10), testimg.WebPFrame{W: 40, H: 30, Bitstream: testimg.VP8L(40, 30, color.NRGBA{}, true)})},
		{"at the pixel limit", "image/webp", testimg.WebPStill(testimg.VP8L(1500, 1000, color.NRGBA{}, false))},
		{"frames at the pixel limit", "image/webp", testimg.WebPAnimated(1000, 750, testimg.SolidFrame(1000, 750), testimg.SolidFrame(1000, 750))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkUpload(t, tt.data)
			if err != nil || got != tt.want {
				t.Fatalf("check = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// damagedImages are files of each format that are damaged, and what the
// user is told.
func damagedImages(t testing.TB) []struct {
	name, msg string
	data      []byte
} {
	pngData := testimg.EncodePNG(t, testimg.Noise(64, 64))
	idat := testimg.IDATOf(t, pngData)
	badCRC := bytes.Clone(pngData)
	badCRC[bytes.Index(badCRC, []byte("IDAT"))+20] ^= 0xff
	gifHeader, gifBlock := testimg.GIFParts(t, testimg.EncodeGIF(t, testimg.Noise(64, 64)))
	gifFrame2Cut := bytes.Join([][]byte{gifHeader, gifBlock, testimg.CutLZW(t, gifBlock, 100), gifBlock, {0x3b}}, nil)
	noisy := testimg.VP8L(64, 64, color.NRGBA{9, 9, 9, 255}, true)
	jpegData := testimg.EncodeJPEG(t, testimg.Noise(64, 64))
	gifData := testimg.EncodeGIF(t, testimg.Noise(64, 64))
	return []struct {
		name, msg string
		data      []byte
	}{
		{"png cut inside its image data", "The PNG image is damaged: the image data is cut short.", pngData[:len(pngData)*2/3]},
		{"png whose IDAT chunk is cut", "The PNG image is damaged: the image data is cut short.", testimg.PNGWithIDAT(t, pngData, idat[:len(idat)/2])},
		{"png cut in its header", "The PNG image is damaged: the image data is cut short.", pngData[:20]},
		{"png with a bad checksum", "The PNG image is damaged: the image data does not decode (png: invalid format: zlib: invalid checksum).", badCRC},
		{"jpeg cut inside its scan", "The JPEG image is damaged: the image data is cut short.", jpegData[:len(jpegData)*2/3]},
		{"jpeg cut in its header", "The JPEG image is damaged: the image data is cut short.", jpegData[:4]},
		{"gif cut inside its frame", "The GIF image is damaged: the image data is cut short.", gifData[:len(gifData)*2/3]},
		{"gif without its trailer", "The GIF image is damaged: the image data is cut short.", gifData[:len(gifData)-1]},
		{"gif whose frame 2 of 3 is cut short", "The GIF image is damaged: the image data of frame 2 of 3 is cut short.", gifFrame2Cut},
		{"webp cut", "The WebP image is damaged: the image data is cut short.", testimg.WebPStill(noisy)[:100]},
		{"webp whose bitstream is cut", "The WebP image is damaged: the image data is cut short.", testimg.WebPStill(noisy[:len(noisy)/2])},
		{"webp whose frame 2 of 3 is cut short", "The WebP image is damaged: the image data of frame 2 of 3 is cut short.",
			testimg.WebPAnimated(64, 64, testimg.SolidFrame(64, 64), testimg.WebPFrame{W: 64, H: 64, Bitstream: noisy[:len(noisy)/2]}, testimg.SolidFrame(64, 64))},
		{"webp frame outside its canvas", "The WebP image is damaged: the image data does not decode (webp: frame outside the canvas).",
			testimg.WebPAnimated(64, 64, testimg.SolidFrame(65, 64))},
		{"webp frame of another size than its bitstream", "The WebP image is damaged: the image data does not decode (webp: invalid format).",
			testimg.WebPAnimated(64, 64, testimg.WebPFrame{W: 64, H: 64, Bitstream: testimg.VP8L(32, 32, color.NRGBA{}, false)})},
	}
}

func TestCheckImageRefusesDamaged(t *testing.T) {
	for _, tt := range damagedImages(t) {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkUpload(t, tt.data)
			if err == nil || err.Kind != Damaged || err.Message != tt.msg || got != "" {
				t.Fatalf("check = %q, %+v; want 415 about file: %q", got, err, tt.msg)
			}
		})
	}
}

// bombs are files that promise more pixels (or work) than testLimits
// allow, and what the user is told.
func bombs(t testing.TB) []struct {
	name, msg string
	data      []byte
} {
	small := testimg.EncodeJPEG(t, testimg.Noise(16, 16))
	return []struct {
		name, msg string
		data      []byte
	}{
		{"png of 100 megapixels", "The image is 10000 × 10000 pixels (100 megapixels); the limit is 1.5 megapixels. Please scale it down.", testimg.PNGBomb(t, 10000, 10000)},
		{"jpeg whose header says 50000 × 50000", "The image is 50000 × 50000 pixels (2500 megapixels); the limit is 1.5 megapixels. Please scale it down.", testimg.WithJPEGSize(t, small, 50000, 50000)},
		{"jpeg of 101 scans", "The JPEG image has 101 scans; the limit is 100. Please save it again as a baseline or an ordinary progressive JPEG.", testimg.WithJPEGScans(t, small, 101)},
		{"gif whose screen is 50000 × 50000", "The image is 50000 × 50000 pixels (2500 megapixels); the limit is 1.5 megapixels. Please scale it down.", testimg.WithGIFScreen(testimg.EncodeGIF(t, testimg.Noise(4, 4)), 50000, 50000)},
		{"gif whose frames hold 1.9 megapixels", "The GIF animation's 4 frames hold 1.9 megapixels in all; the limit is 1.5 megapixels. Please shorten it or scale it down.", testimg.EncodeGIF(t, testimg.BlankFrames(4, 800, 600)...)},
		{"gif of 10001 frames", "The GIF animation has 10001 frames; the limit is 10000. Please shorten it.", testimg.EncodeGIF(t, testimg.BlankFrames(10001, 1, 1)...)},
		{"webp of 16384 × 16384", "The image is 16384 × 16384 pixels (268 megapixels); the limit is 1.5 megapixels. Please scale it down.", testimg.WebPStill(testimg.VP8L(16384, 16384, color.NRGBA{}, false))},
		{"webp animation on a 50000 × 50000 canvas", "The image is 50000 × 50000 pixels (2500 megapixels); the limit is 1.5 megapixels. Please scale it down.", testimg.WebPAnimated(50000, 50000, testimg.SolidFrame(10, 10))},
		{"webp whose frames hold 2 megapixels", "The WebP animation's 4 frames hold 2 megapixels in all; the limit is 1.5 megapixels. Please shorten it or scale it down.",
			testimg.WebPAnimated(1000, 500, testimg.SolidFrame(1000, 500), testimg.SolidFrame(1000, 500), testimg.SolidFrame(1000, 500), testimg.SolidFrame(1000, 500))},
	}
}

// TestCheckImageRefusesBombs: a bomb is refused with 413 from its headers,
// before any pixel is decoded: checking it allocates a fraction of what
// its decode would.
func TestCheckImageRefusesBombs(t *testing.T) {
	for _, tt := range bombs(t) {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			var err *Refusal
			allocated := allocatedBy(func() { got, err = checkUpload(t, tt.data) })
			if err == nil || err.Kind != TooLarge || err.Message != tt.msg || got != "" {
				t.Fatalf("check = %q, %+v; want TooLarge: %q", got, err, tt.msg)
			}
			if allocated > 2<<20 {
				t.Errorf("refusing it allocated %d bytes: it was decoded", allocated)
			}
		})
	}
}

// allocatedBy returns the bytes the process allocated while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeCostBoundsAllocations: what a picture says a decode costs is
// at least what the decoder allocates, for each kind of image these
// tests can make, so that the decode budget bounds real memory.
func TestDecodeCostBoundsAllocations(t *testing.T) {
	big := testimg.Noise(512, 384)
	deep := image.NewNRGBA64(big.Bounds())
	gray := image.NewGray(big.Bounds())
	copy(gray.Pix, big.Pix)
	tests := []struct {
		name string
		data []byte
	}{
		{"png", testimg.EncodePNG(t, big)},
		{"16-bit png", testimg.EncodePNG(t, deep)},
		{"grey png", testimg.EncodePNG(t, gray)},
		{"png bomb", testimg.PNGBomb(t, 1200, 1200)},
		{"jpeg", testimg.EncodeJPEG(t, big)},
		{"grey jpeg", testimg.EncodeJPEG(t, gray)},
		{"progressive jpeg", testimg.ProgressiveJPEG(512, 384, 3)},
		{"progressive grey jpeg", testimg.ProgressiveJPEG(512, 384, 1)},
		{"progressive cmyk jpeg", testimg.ProgressiveJPEG(512, 384, 4)},
		{"gif", testimg.EncodeGIF(t, big, big)},
		{"webp", testimg.WebPStill(testimg.VP8L(512, 384, color.NRGBA{1, 2, 3, 4}, true))},
		{"animated webp", testimg.WebPAnimated(512, 384, testimg.SolidFrame(512, 384), testimg.SolidFrame(100, 100))},
	}
	c := NewChecker(testLimits)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := sniffImage(tt.data, c.limits.MaxBytes)
			if err != nil {
				t.Fatal(err)
			}
			p, perr := f.inspect(tt.data)
			if perr != nil {
				t.Fatal(perr)
			}
			for i, fr := range p.frames {
				var derr error
				allocated := allocatedBy(func() { derr = f.decode(fr.reader()) })
				if derr != nil {
					t.Fatalf("frame %d: %v", i, derr)
				}
				if int64(allocated) > p.cost {
					t.Errorf("frame %d: the decode allocated %d bytes, more than the %d the picture says", i, allocated, p.cost)
				}
				t.Logf("frame %d: allocated %d of %d bytes said", i, allocated, p.cost)
			}
		})
	}
}

// TestDecodeBudget: decodes wait while the memory they need is taken,
// and a request that ends while it waits is told it is Busy.
func TestDecodeBudget(t *testing.T) {
	data := testimg.EncodePNG(t, testimg.Noise(8, 8))
	synctest.Test(t, func(t *testing.T) {
		c := NewChecker(testLimits)
		if err := c.memory.Acquire(t.Context(), c.budget); err != nil { // every byte, as decodes in flight would
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		results := make(chan error, 2)
		go func() { _, err := c.Check(t.Context(), data); results <- err }()
		go func() { _, err := c.Check(ctx, data); results <- err }()
		synctest.Wait()
		select {
		case err := <-results:
			t.Fatalf("a check ended (%v) while the budget was taken", err)
		default:
		}
		cancel()
		synctest.Wait()
		var r *Refusal
		if err := <-results; !errors.As(err, &r) || r.Kind != Busy {
			t.Errorf("the ended request got %+v, want a Busy refusal", err)
		}
		c.memory.Release(c.budget)
		synctest.Wait()
		if err := <-results; err != nil {
			t.Errorf("the waiting check got %v once the budget was free, want nil", err)
		}
	})
}

// TestDecodeBudgetSize: the budget is MaxDecodeBytesPerPixel bytes a pixel
// of the limit, and no decode asks for more than it (a decode costlier
// than the budget waits for all of it).
func TestDecodeBudgetSize(t *testing.T) {
	c := NewChecker(Limits{MaxBytes: 1})
	if want := int64(DefaultMaxPixels * MaxDecodeBytesPerPixel); c.budget != want {
		t.Errorf("budget = %d, want %d", c.budget, want)
	}
	for _, model := range []struct {
		name string
		img  image.Image
	}{{"rgba", testimg.Noise(1, 1)}, {"gray", image.NewGray(image.Rect(0, 0, 1, 1))}} {
		p, err := inspectJPEG(testimg.EncodeJPEG(t, model.img))
		if err != nil {
			t.Fatal(err)
		}
		perPixel := float64(p.cost-decodeOverhead) / (32 * 32)
		if perPixel > MaxDecodeBytesPerPixel {
			t.Errorf("a %s JPEG costs %.1f bytes a pixel, more than MaxDecodeBytesPerPixel", model.name, perPixel)
		}
	}
}

func TestMegapixels(t *testing.T) {
	for n, want := range map[int64]string{2_500_000_000: "2500 megapixels", 268_435_456: "268 megapixels", 33_600_000: "33.6 megapixels",
		1_500_000: "1.5 megapixels", 2_000_000: "2 megapixels", 1_000_000: "1 megapixel", 1_020_000: "1 megapixel", 800_000: "0.8 megapixels"} {
		if got := megapixels(n); got != want {
			t.Errorf("megapixels(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSniffImage(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		wantType string
		kind     Kind
		msg      string
	}{
		{"png", testimg.PNG(t, 1, 1), "image/png", 0, ""},
		{"jpeg", testimg.JPEG(t), "image/jpeg", 0, ""},
		{"gif", testimg.GIF(t), "image/gif", 0, ""},
		{"webp", testimg.WebP(), "image/webp", 0, ""},
		{"at the limit", testimg.PaddedPNG(t, 1000), "image/png", 0, ""},
		{"over the limit", testimg.PaddedPNG(t, 1001), "", TooLarge, "The file is larger than 1000 bytes, the limit."},
		{"empty", nil, "", Empty, "The file is empty."},
		{"text", []byte("hello"), "", NotImage, "The file is not a PNG, JPEG, GIF or WebP image (it looks like text/plain)."},
		{"pdf", []byte("%PDF-1.7\n"), "", NotImage, "The file is not a PNG, JPEG, GIF or WebP image (it looks like application/pdf)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := sniffImage(tt.data, 1000)
			if tt.kind == 0 {
				if err != nil || f == nil || f.contentType != tt.wantType {
					t.Fatalf("sniffImage = %+v, %v; want %q", f, err, tt.wantType)
				}
				return
			}
			var r *Refusal
			if !errors.As(err, &r) || r.Kind != tt.kind || r.Message != tt.msg || f != nil {
				t.Fatalf("sniffImage = %+v, %+v; want %d %q", f, err, tt.kind, tt.msg)
			}
		})
	}
}

// FuzzCheckImage: the check never accepts what is not one of the four
// formats nor what does not decode, and every refusal says why.
func FuzzCheckImage(f *testing.F) {
	f.Add(testimg.PNG(f, 2, 2))
	f.Add(testimg.GIF(f))
	f.Add(testimg.JPEG(f))
	f.Add(testimg.WebP())
	f.Add(testimg.WebPAnimated(8, 8, testimg.SolidFrame(8, 8), testimg.SolidFrame(4, 4)))
	f.Add(testimg.EncodeGIF(f, testimg.Noise(4, 4), testimg.Noise(4, 4)))
	f.Add(testimg.ProgressiveJPEG(8, 8, 4))
	f.Add([]byte("hello"))
	f.Add([]byte{})
	c := NewChecker(Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, err := c.Check(t.Context(), data)
		if err != nil {
			var r *Refusal
			if !errors.As(err, &r) || r.Kind == Busy || ct != "" {
				t.Fatalf("refusal %+v, %q", err, ct)
			}
			return
		}
		if ct != http.DetectContentType(data) {
			t.Fatalf("accepted as %q (sniffed %q)", ct, http.DetectContentType(data))
		}
		f, _ := sniffImage(data, 1<<20)
		p, perr := f.inspect(data)
		if perr != nil || p.count == 0 || p.pixels > 1<<16 || int64(p.width)*int64(p.height) > 1<<16 {
			t.Fatalf("accepted %s of %d × %d in %d frames (%d pixels), %v", ct, p.width, p.height, p.count, p.pixels, perr)
		}
		for i, fr := range p.frames {
			if err := f.decode(fr.reader()); err != nil {
				t.Fatalf("accepted, but frame %d does not decode: %v", i, err)
			}
		}
	})
}
