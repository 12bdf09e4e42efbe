package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"testing"
)

const testMaxPixels = 50_000_000

// byName returns the rendition of the named size.
func byName(t *testing.T, rs []Rendition, name string) Rendition {
	t.Helper()
	for _, r := range rs {
		if r.Size.Name == name {
			return r
		}
	}
	t.Fatalf("no rendition %q in %d renditions", name, len(rs))
	return Rendition{}
}

// hasEXIF reports whether encoded image data has an EXIF payload or a
// JPEG APP1 segment (where EXIF and XMP live).
func hasEXIF(data []byte) bool {
	return bytes.Contains(data, []byte("Exif\x00\x00")) || bytes.Contains(data, []byte{0xFF, 0xE1}) ||
		bytes.Contains(data, []byte("eXIf")) || bytes.Contains(data, []byte("GPS"))
}

// A phone's portrait photo: 4000×3000 stored sideways with orientation 6.
func TestRenditionsPortraitPhoneJPEG(t *testing.T) {
	original := withEXIF(camera12MP(), 6)
	rs, err := Renditions(original, Options{MaxPixels: testMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Size != Display || rs[1].Size != Thumb {
		t.Fatalf("got renditions %v, %v; want display then thumb", rs[0].Size, rs[len(rs)-1].Size)
	}
	thumb, display := byName(t, rs, "thumb"), byName(t, rs, "display")
	if thumb.Height <= thumb.Width {
		t.Errorf("thumbnail is %dx%d; want portrait (taller than wide)", thumb.Width, thumb.Height)
	}
	if thumb.Width != 240 || thumb.Height != 320 {
		t.Errorf("thumbnail is %dx%d; want 240x320 (long side 320, ≤ 640 each)", thumb.Width, thumb.Height)
	}
	if limit := len(original) / 20; len(thumb.Data) > limit {
		t.Errorf("thumbnail is %d bytes; want at most 5 %% of the original's %d, %d", len(thumb.Data), len(original), limit)
	}
	if display.Width != 1200 || display.Height != 1600 {
		t.Errorf("display is %dx%d; want 1200x1600", display.Width, display.Height)
	}
	for _, r := range rs {
		if r.ContentType != "image/jpeg" {
			t.Errorf("%s: content type %q; want image/jpeg", r.Size.Name, r.ContentType)
		}
		if hasEXIF(r.Data) {
			t.Errorf("%s: carries EXIF (an APP1 segment or the GPS payload)", r.Size.Name)
		}
		decodeRendition(t, r)
	}
	t.Logf("original %d B, display %d B, thumb %d B (%.2f %%)", len(original), len(display.Data), len(thumb.Data), 100*float64(len(thumb.Data))/float64(len(original)))
}

func TestRenditionsNeverEnlarge(t *testing.T) {
	small := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for i := range small.Pix {
		small.Pix[i] = 0x80
	}
	rs, err := Renditions(mustJPEG(small, 90), Options{MaxPixels: testMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Width != 200 || r.Height != 100 {
			t.Errorf("%s is %dx%d; want the original's 200x100", r.Size.Name, r.Width, r.Height)
		}
		decodeRendition(t, r)
	}
}

func TestRenditionsRefusesTooManyPixels(t *testing.T) {
	// A PNG header that claims 100000×100000 pixels and has no pixel data:
	// the limit must refuse it from the header, before any decoding.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	hdr := buf.Bytes()[:33]
	hdr = append([]byte{}, hdr...)
	copy(hdr[16:], []byte{0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0})
	binary.BigEndian.PutUint32(hdr[29:], crc32.ChecksumIEEE(hdr[12:29]))
	_, err := Renditions(hdr, Options{MaxPixels: testMaxPixels})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v; want ErrTooLarge", err)
	}

	vga := mustJPEG(cameraImage(640, 480), 90)
	_, err = Renditions(vga, Options{MaxPixels: 640*480 - 1})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("640x480 original with a limit one pixel lower: got %v; want ErrTooLarge", err)
	}
	if _, err := Renditions(vga, Options{MaxPixels: 640 * 480, Sizes: []Size{Thumb}}); err != nil {
		t.Errorf("640x480 original with a limit of exactly its pixels: %v", err)
	}
}

func TestRenditionsRefusesNonImages(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello, this is not an image"),
		"truncated": camera12MP()[:1000],
	} {
		_, err := Renditions(data, Options{MaxPixels: testMaxPixels})
		if err == nil {
			t.Errorf("%s: got no error", name)
		}
		if name != "truncated" && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v; want ErrFormat", name, err)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{MaxPixels: 1}, true},
		{"no pixel limit", Options{}, false},
		{"zero side", Options{MaxPixels: 1, Sizes: []Size{{Name: "x"}}}, false},
		{"same name twice", Options{MaxPixels: 1, Sizes: []Size{Thumb, Thumb}}, false},
		{"quality 101", Options{MaxPixels: 1, Quality: 101}, false},
		{"quality 100", Options{MaxPixels: 1, Quality: 100}, true},
	} {
		got, err := tc.opts.validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v; want ok=%v", tc.name, err, tc.ok)
		}
		if tc.name == "defaults" && (got.Quality != DefaultQuality || len(got.Sizes) != 2) {
			t.Errorf("defaults: got quality %d, %d sizes; want %d and 2", got.Quality, len(got.Sizes), DefaultQuality)
		}
	}
}

// A transparent PNG must keep its transparency, not turn black.
func TestRenditionsTransparentPNG(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 800, 600))
	for y := 200; y < 400; y++ {
		for x := 300; x < 500; x++ {
			m.SetNRGBA(x, y, color.NRGBA{R: 220, G: 30, B: 30, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	rs, err := Renditions(buf.Bytes(), Options{MaxPixels: testMaxPixels})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ContentType != "image/png" {
			t.Fatalf("%s: content type %q; want image/png for an image with transparency", r.Size.Name, r.ContentType)
		}
		got := decodeRendition(t, r)
		if _, _, _, a := got.At(1, 1).RGBA(); a != 0 {
			t.Errorf("%s: corner alpha %d; want 0 (transparent)", r.Size.Name, a>>8)
		}
		c := color.NRGBAModel.Convert(got.At(r.Width/2, r.Height/2)).(color.NRGBA)
		if c.A != 255 || c.R < 200 || c.G > 50 || c.B > 50 {
			t.Errorf("%s: centre %v; want opaque red", r.Size.Name, c)
		}
	}
	if got := byName(t, rs, "thumb"); got.Width != 320 || got.Height != 240 {
		t.Errorf("thumb is %dx%d; want 320x240", got.Width, got.Height)
	}
}

// A PNG with an alpha channel but no transparent pixel is a photo: JPEG.
func TestRenditionsOpaquePNGIsJPEG(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, cameraImage(640, 480)); err != nil {
		t.Fatal(err)
	}
	rs, err := Renditions(buf.Bytes(), Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].ContentType != "image/jpeg" {
		t.Errorf("content type %q; want image/jpeg", rs[0].ContentType)
	}
	decodeRendition(t, rs[0])
}

// An animated GIF gives its first frame.
func TestRenditionsGIFFirstFrame(t *testing.T) {
	pal := color.Palette{color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 0, 255}}
	frame := func(i uint8) *image.Paletted {
		p := image.NewPaletted(image.Rect(0, 0, 500, 400), pal)
		for j := range p.Pix {
			p.Pix[j] = i
		}
		return p
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{frame(0), frame(1)}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	rs, err := Renditions(buf.Bytes(), Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
	if err != nil {
		t.Fatal(err)
	}
	got := decodeRendition(t, rs[0])
	if r, g, b, _ := got.At(160, 128).RGBA(); r>>8 > 10 || g>>8 > 10 || b>>8 < 240 {
		t.Errorf("centre is %d,%d,%d; want the first frame's blue", r>>8, g>>8, b>>8)
	}
	if rs[0].Width != 320 || rs[0].Height != 256 {
		t.Errorf("thumb is %dx%d; want 320x256", rs[0].Width, rs[0].Height)
	}
}

// decodeRendition decodes a rendition's bytes and checks that the size it
// reports is the size it has.
func decodeRendition(t *testing.T, r Rendition) image.Image {
	t.Helper()
	m, _, err := image.Decode(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("rendition %q does not decode: %v", r.Size.Name, err)
	}
	if got := m.Bounds().Size(); got != image.Pt(r.Width, r.Height) {
		t.Fatalf("rendition %q is %v but reports %dx%d", r.Size.Name, got, r.Width, r.Height)
	}
	return m
}
