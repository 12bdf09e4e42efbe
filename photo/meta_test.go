package photo

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
	"os"
	"testing"
)

func TestExifOrientation(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	for _, tc := range []struct {
		name string
		tiff []byte
		want int
	}{
		{"little endian 6", exifTIFF(6, le), 6},
		{"big endian 8", exifTIFF(8, be), 8},
		{"big endian 1", exifTIFF(1, be), 1},
		{"value 0", exifTIFF(0, be), 1},
		{"value 9", exifTIFF(9, le), 1},
		{"empty", nil, 1},
		{"bad byte order", append([]byte("XX"), exifTIFF(6, be)[2:]...), 1},
		{"bad magic", append([]byte("MM\x00\x2b"), exifTIFF(6, be)[4:]...), 1},
		{"truncated entry", exifTIFF(6, be)[:15], 1},
		{"IFD offset past the end", append([]byte("MM\x00\x2a\x7f\xff\xff\xff"), exifTIFF(6, be)[8:]...), 1},
		{"type LONG, not SHORT", func() []byte { b := exifTIFF(6, be); b[13] = 4; return b }(), 1},
	} {
		if got := exifOrientation(tc.tiff); got != tc.want {
			t.Errorf("%s: got %d; want %d", tc.name, got, tc.want)
		}
	}
}

func FuzzExifOrientation(f *testing.F) {
	for o := range 9 {
		f.Add(exifTIFF(o, binary.LittleEndian))
		f.Add(exifTIFF(o, binary.BigEndian))
	}
	f.Fuzz(func(t *testing.T, tiff []byte) {
		if got := exifOrientation(tiff); got < 1 || got > 8 {
			t.Fatalf("orientation %d out of 1..8", got)
		}
	})
}

// FuzzReadMeta feeds damaged containers to the metadata walkers: they
// must neither panic nor return an orientation outside 1..8.
func FuzzReadMeta(f *testing.F) {
	f.Add(withEXIF(mustJPEG(image.NewGray(image.Rect(0, 0, 8, 8)), 80), 6))
	f.Add(withJPEGICC(mustJPEG(image.NewGray(image.Rect(0, 0, 8, 8)), 80), testICC("Display P3", "RGB ", 0)))
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)))
	f.Add(withPNGChunk(withPNGICC(buf.Bytes(), testICC("P3", "RGB ", 0)), "eXIf", exifTIFF(3, binary.BigEndian)))
	f.Add(webpWithChunks(f, exifTIFF(6, binary.LittleEndian), testICC("P3", "RGB ", 0)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m := readMeta(sniff(data), data); m.orientation < 1 || m.orientation > 8 {
			t.Fatalf("orientation %d out of 1..8", m.orientation)
		}
	})
}

// testICC is a minimal ICC profile for colour space space ("RGB ",
// "GRAY", "CMYK") whose v2 description is desc, padded with zeros to at
// least size bytes.
func testICC(desc, space string, size int) []byte {
	text := append([]byte(desc), 0)
	tag := append([]byte("desc\x00\x00\x00\x00"), binary.BigEndian.AppendUint32(nil, uint32(len(text)))...)
	tag = append(tag, text...)
	p := make([]byte, 128)
	copy(p[12:], "mntr")
	copy(p[16:], space)
	copy(p[20:], "XYZ ")
	copy(p[36:], "acsp")
	p = binary.BigEndian.AppendUint32(p, 1) // one tag
	p = append(p, "desc"...)
	p = binary.BigEndian.AppendUint32(p, 144)
	p = binary.BigEndian.AppendUint32(p, uint32(len(tag)))
	p = append(p, tag...)
	if len(p) < size {
		p = append(p, make([]byte, size-len(p))...)
	}
	binary.BigEndian.PutUint32(p, uint32(len(p)))
	return p
}

// webpWithChunks wraps the lossy WebP in testdata in the extended (VP8X)
// layout with an ICCP chunk before the bitstream and an EXIF chunk after
// it, as the WebP container specification orders them.
func webpWithChunks(tb testing.TB, exif, icc []byte) []byte {
	plain, err := os.ReadFile("testdata/quadrants.lossy.webp")
	if err != nil {
		tb.Fatal(err)
	}
	chunk := func(fourcc string, body []byte) []byte {
		c := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
		c = append(c, body...)
		if len(body)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	const flagICC, flagEXIF = 0x20, 0x08
	vp8x := []byte{flagICC | flagEXIF, 0, 0, 0, 63, 0, 0, 63, 0, 0} // 64×64 canvas
	var body []byte
	body = append(body, "WEBP"...)
	body = append(body, chunk("VP8X", vp8x)...)
	body = append(body, chunk("ICCP", icc)...)
	body = append(body, plain[12:]...) // the VP8 chunk
	body = append(body, chunk("EXIF", exif)...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

func TestReadMetaWebP(t *testing.T) {
	icc := testICC("Display P3", "RGB ", 0)
	for name, exif := range map[string][]byte{
		"raw TIFF":               exifTIFF(6, binary.LittleEndian),
		"with Exif\\0\\0 prefix": append([]byte("Exif\x00\x00"), exifTIFF(6, binary.BigEndian)...),
	} {
		m := readMeta(formatWebP, webpWithChunks(t, exif, icc))
		if m.orientation != 6 || !bytes.Equal(m.icc, icc) {
			t.Errorf("%s: got orientation %d, %d-byte profile; want 6 and the %d-byte profile", name, m.orientation, len(m.icc), len(icc))
		}
	}
}

func TestReadMetaJPEGICCInChunks(t *testing.T) {
	icc := testICC("Wide Gamut", "RGB ", 150_000) // three APP2 chunks
	got := readMeta(formatJPEG, withJPEGICC(mustJPEG(image.NewGray(image.Rect(0, 0, 8, 8)), 80), icc))
	if !bytes.Equal(got.icc, icc) {
		t.Errorf("got a %d-byte profile; want the %d-byte one back", len(got.icc), len(icc))
	}
}
