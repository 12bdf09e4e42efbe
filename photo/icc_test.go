package photo

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func TestRenditionsICC(t *testing.T) {
	photo := mustJPEG(cameraImage(640, 480), 90)
	for _, tc := range []struct {
		name string
		icc  []byte
		keep bool
	}{
		{"Display P3 is kept", testICC("Display P3", "RGB ", 0), true},
		{"sRGB v2 is dropped", testICC("sRGB IEC61966-2.1", "RGB ", 3144), false},
		{"sRGB v4 (UTF-16) is dropped", testICC("\x00s\x00R\x00G\x00B", "RGB ", 0), false},
		{"CMYK is dropped", testICC("U.S. Web Coated (SWOP) v2", "CMYK", 0), false},
		{"large profile is kept whole", testICC("ProPhoto", "RGB ", 100_000), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Renditions(withJPEGICC(photo, tc.icc), Options{MaxPixels: testMaxPixels})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				got := readMeta(formatJPEG, r.Data).icc
				if tc.keep && !bytes.Equal(got, tc.icc) {
					t.Errorf("%s: has a %d-byte profile; want the original's %d bytes", r.Size.Name, len(got), len(tc.icc))
				}
				if !tc.keep && got != nil {
					t.Errorf("%s: has a %d-byte profile; want none", r.Size.Name, len(got))
				}
				decodeRendition(t, r)
			}
		})
	}
}

// A transparent PNG with a wide-gamut profile: the PNG rendition carries
// it in an iCCP chunk that Go's decoder (which checks every CRC) accepts.
func TestRenditionsICCInPNG(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	m.SetNRGBA(10, 10, color.NRGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	icc := testICC("Display P3", "RGB ", 0)
	rs, err := Renditions(withPNGICC(buf.Bytes(), icc), Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].ContentType != "image/png" {
		t.Fatalf("content type %q; want image/png", rs[0].ContentType)
	}
	if got := readMeta(formatPNG, rs[0].Data).icc; !bytes.Equal(got, icc) {
		t.Errorf("has a %d-byte profile; want the original's %d bytes", len(got), len(icc))
	}
	decodeRendition(t, rs[0])
}
