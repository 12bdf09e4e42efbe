package photo

import (
	"encoding/binary"
	"image/color"
	"os"
	"testing"
)

// quadrants.lossy.webp is a 64×64 lossy WebP written by libwebp (quality
// 95) of four flat quadrants: white, black / (200,100,50), (50,100,200).
var quadrantColours = []color.RGBA{{255, 255, 255, 255}, {0, 0, 0, 255}, {200, 100, 50, 255}, {50, 100, 200, 255}}

// checkQuadrants checks the centre of each quadrant of a rendition of the
// quadrants picture, turned by the given quarter turns clockwise.
func checkQuadrants(t *testing.T, r Rendition, turns int) {
	t.Helper()
	m := decodeRendition(t, r)
	centres := [][2]int{{16, 16}, {48, 16}, {16, 48}, {48, 48}} // TL, TR, BL, BR as stored
	for i, c := range centres {
		x, y := c[0], c[1]
		for range turns {
			x, y = 63-y, x
		}
		want := quadrantColours[i]
		r, g, b, _ := m.At(x, y).RGBA()
		d := func(a uint32, b uint8) bool { return int(a>>8)-int(b) <= 6 && int(b)-int(a>>8) <= 6 }
		if !d(r, want.R) || !d(g, want.G) || !d(b, want.B) {
			t.Errorf("stored quadrant %d shown at (%d,%d): got %d,%d,%d; want %v ±6", i, x, y, r>>8, g>>8, b>>8, want)
		}
	}
}

// A lossy WebP keeps its blacks and whites (golang/go#40173).
func TestRenditionsWebPFullRange(t *testing.T) {
	original, err := os.ReadFile("testdata/quadrants.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Renditions(original, Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
	if err != nil {
		t.Fatal(err)
	}
	checkQuadrants(t, rs[0], 0)
}

// A WebP's EXIF chunk turns it; its ICCP profile is kept.
func TestRenditionsWebPOrientationAndICC(t *testing.T) {
	icc := testICC("Display P3", "RGB ", 0)
	rs, err := Renditions(webpWithChunks(t, exifTIFF(6, binary.LittleEndian), icc), Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
	if err != nil {
		t.Fatal(err)
	}
	checkQuadrants(t, rs[0], 1)
	if hasEXIF(rs[0].Data) {
		t.Error("rendition carries EXIF")
	}
	if got := readMeta(formatJPEG, rs[0].Data).icc; len(got) != len(icc) {
		t.Errorf("has a %d-byte profile; want the original's %d bytes", len(got), len(icc))
	}
}
