package photo

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"testing"
)

var (
	markRed   = color.RGBA{220, 20, 20, 255}
	markGreen = color.RGBA{20, 200, 20, 255}
	markGrey  = color.RGBA{128, 128, 128, 255}
)

// uprightMarker is the picture as it should be seen: 400×300, grey, with
// a red block at the top left and a green one at the top right, so that
// both a turn and a mirror image are told apart.
func uprightMarker(x, y int) color.RGBA {
	switch {
	case y < 75 && x < 100:
		return markRed
	case y < 75 && x >= 300:
		return markGreen
	}
	return markGrey
}

// storedAs is the picture as a camera stores it with EXIF orientation o,
// written from the standard's words for the 0th stored row and column
// (CIPA DC-008 tag 0x0112), independently of orientPlane's table.
func storedAs(o int) *image.RGBA {
	const w, h = 400, 300
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	m := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for y := range sh {
		for x := range sw {
			var ux, uy int
			switch o {
			case 1: // row 0 is the visual top, column 0 the visual left
				ux, uy = x, y
			case 2: // row 0 top, column 0 right
				ux, uy = w-1-x, y
			case 3: // row 0 bottom, column 0 right
				ux, uy = w-1-x, h-1-y
			case 4: // row 0 bottom, column 0 left
				ux, uy = x, h-1-y
			case 5: // row 0 left, column 0 top
				ux, uy = y, x
			case 6: // row 0 right, column 0 top
				ux, uy = w-1-y, x
			case 7: // row 0 right, column 0 bottom
				ux, uy = w-1-y, h-1-x
			case 8: // row 0 left, column 0 bottom
				ux, uy = y, h-1-x
			}
			m.SetRGBA(x, y, uprightMarker(ux, uy))
		}
	}
	return m
}

// near reports whether c is within a JPEG's error of want.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { return int(a>>8)-int(b) < 30 && int(b)-int(a>>8) < 30 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// checkUpright checks the markers of a 320×240 rendition of uprightMarker.
func checkUpright(t *testing.T, r Rendition) {
	t.Helper()
	if r.Width != 320 || r.Height != 240 {
		t.Fatalf("%s is %dx%d; want 320x240 (upright)", r.Size.Name, r.Width, r.Height)
	}
	m := decodeRendition(t, r)
	for _, p := range []struct {
		x, y int
		want color.RGBA
		what string
	}{
		{40, 30, markRed, "top left red"},
		{280, 30, markGreen, "top right green"},
		{40, 200, markGrey, "bottom left grey"},
		{280, 200, markGrey, "bottom right grey"},
	} {
		if got := m.At(p.x, p.y); !near(got, p.want) {
			t.Errorf("at (%d,%d) got %v; want %s", p.x, p.y, got, p.what)
		}
	}
}

func TestRenditionsAllOrientationsJPEG(t *testing.T) {
	for o := 1; o <= 8; o++ {
		t.Run(string(rune('0'+o)), func(t *testing.T) {
			original := withEXIF(mustJPEG(storedAs(o), 95), o)
			rs, err := Renditions(original, Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
			if err != nil {
				t.Fatal(err)
			}
			checkUpright(t, rs[0])
		})
	}
}

// The same through the RGBA path: a PNG with its orientation in eXIf.
func TestRenditionsAllOrientationsPNG(t *testing.T) {
	for o := 1; o <= 8; o++ {
		t.Run(string(rune('0'+o)), func(t *testing.T) {
			var buf bytes.Buffer
			if err := png.Encode(&buf, storedAs(o)); err != nil {
				t.Fatal(err)
			}
			original := withPNGChunk(buf.Bytes(), "eXIf", exifTIFF(o, binary.LittleEndian))
			rs, err := Renditions(original, Options{MaxPixels: testMaxPixels, Sizes: []Size{Thumb}})
			if err != nil {
				t.Fatal(err)
			}
			checkUpright(t, rs[0])
		})
	}
}
