// Package testimg makes test images on the spot, for the tests of every
// package: valid ones of each format the gallery takes, damaged ones (cut
// short, bad checksums) and decompression bombs (tiny files that promise
// many pixels). The standard library writes PNG, JPEG and GIF; WebP is
// written here, as lossless (VP8L) bitstreams that the simple prefix
// codes of the format keep tiny.
package testimg

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
)

// Noise is a w × h image of pseudo-random colours: its data does not
// compress away, so cutting the file cuts pixels.
func Noise(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := uint32(2463534242)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	return img
}

func EncodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func EncodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// EncodeGIF encodes frames (paletted ones as they are, others mapped to
// the Plan 9 palette; no transparency and no delay, so no graphic control
// blocks) on a screen of the first frame's size.
func EncodeGIF(t testing.TB, frames ...image.Image) []byte {
	t.Helper()
	g := &gif.GIF{Config: image.Config{ColorModel: color.Palette(palette.Plan9), Width: frames[0].Bounds().Dx(), Height: frames[0].Bounds().Dy()}}
	for _, f := range frames {
		p, ok := f.(*image.Paletted)
		if !ok {
			p = image.NewPaletted(f.Bounds(), palette.Plan9)
			for y := f.Bounds().Min.Y; y < f.Bounds().Max.Y; y++ {
				for x := f.Bounds().Min.X; x < f.Bounds().Max.X; x++ {
					p.Set(x, y, f.At(x, y))
				}
			}
		}
		g.Image, g.Delay = append(g.Image, p), append(g.Delay, 0)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// BlankFrames are n paletted w × h frames.
func BlankFrames(n, w, h int) []image.Image {
	frames := make([]image.Image, n)
	for i := range frames {
		frames[i] = image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
	}
	return frames
}

// PNGChunk is a PNG chunk: length, type, data, CRC.
func PNGChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(append(b, typ...), data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// PNGChunks splits a PNG into its chunks (after the signature).
func PNGChunks(t testing.TB, data []byte) [][]byte {
	t.Helper()
	var chunks [][]byte
	for i := 8; i < len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		chunks = append(chunks, data[i:i+12+n])
		i += 12 + n
	}
	return chunks
}

// PNGWithIDAT is png with its image data replaced by idat, in one WebPChunk
// with a right CRC: a well-formed file whose pixels are what idat says.
func PNGWithIDAT(t testing.TB, data, idat []byte) []byte {
	t.Helper()
	out := append([]byte(nil), data[:8]...)
	wrote := false
	for _, c := range PNGChunks(t, data) {
		if string(c[4:8]) != "IDAT" {
			out = append(out, c...)
		} else if !wrote {
			out, wrote = append(out, PNGChunk("IDAT", idat)...), true
		}
	}
	return out
}

// IDATOf is the zlib stream of a PNG's image data.
func IDATOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var idat []byte
	for _, c := range PNGChunks(t, data) {
		if string(c[4:8]) == "IDAT" {
			idat = append(idat, c[8:len(c)-4]...)
		}
	}
	return idat
}

// PNGBomb is a real decompression bomb: a w × h 1-bit grey PNG, all black,
// whose zlib stream is a few KB per 10 megapixels.
func PNGBomb(t testing.TB, w, h int) []byte {
	t.Helper()
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+(w+7)/8) // filter type 0, then the bits
	for range h {
		zw.Write(row)
	}
	zw.Close()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 1, 0, 0, 0, 0) // 1 bit, grey, deflate, adaptive filters, not interlaced
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, PNGChunk("IHDR", ihdr)...)
	b = append(b, PNGChunk("IDAT", z.Bytes())...)
	return append(b, PNGChunk("IEND", nil)...)
}

// WithJPEGSize is a JPEG whose frame header (SOF0) says w × h: a bomb
// when they are large, since the scans that follow are the small image's.
func WithJPEGSize(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	i := bytes.Index(data, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	out := append([]byte(nil), data...)
	binary.BigEndian.PutUint16(out[i+5:], uint16(h))
	binary.BigEndian.PutUint16(out[i+7:], uint16(w))
	return out
}

// WithJPEGScans repeats a baseline JPEG's scan (its SOS segment and data)
// until the file has n scans.
func WithJPEGScans(t testing.TB, data []byte, n int) []byte {
	t.Helper()
	sos := bytes.Index(data, []byte{0xff, 0xda})
	eoi := len(data) - 2
	if sos < 0 || !bytes.Equal(data[eoi:], []byte{0xff, 0xd9}) {
		t.Fatal("want one scan and an EOI at the end")
	}
	out := append([]byte(nil), data[:sos]...)
	for range n {
		out = append(out, data[sos:eoi]...)
	}
	return append(out, 0xff, 0xd9)
}

// WithGIFScreen is a GIF whose logical screen says w × h.
func WithGIFScreen(data []byte, w, h int) []byte {
	out := append([]byte(nil), data...)
	binary.LittleEndian.PutUint16(out[6:], uint16(w))
	binary.LittleEndian.PutUint16(out[8:], uint16(h))
	return out
}

// GIFParts splits a GIF made by EncodeGIF of one frame into its header
// (signature, screen, global palette), its one image block, and the
// trailer: the encoder writes exactly these.
func GIFParts(t testing.TB, data []byte) (header, block []byte) {
	t.Helper()
	header = data[:13+3*256]
	if data[len(header)] != 0x2c || data[len(data)-1] != 0x3b {
		t.Fatalf("not a one-frame GIF as EncodeGIF writes it: % x", data[len(header):len(header)+1])
	}
	return header, data[len(header) : len(data)-1]
}

// CutLZW is a GIF image block whose LZW data is cut to its first n bytes,
// in well-formed sub-blocks: the frame ends before its pixels do.
func CutLZW(t testing.TB, block []byte, n int) []byte {
	t.Helper()
	out := append([]byte(nil), block[:11]...) // descriptor (10 bytes, no local palette), LZW code size
	first := int(block[11])
	if n > first {
		t.Fatalf("cut at %d, beyond the first sub-block of %d bytes", n, first)
	}
	out = append(out, byte(n))
	out = append(out, block[12:12+n]...)
	return append(out, 0)
}

// VP8L: the lossless WebP bitstream.

// bitWriter writes bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nbit uint
}

func (w *bitWriter) write(v uint64, n uint) {
	w.acc |= v << w.nbit
	w.nbit += n
	for w.nbit >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nbit -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nbit > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nbit = 0, 0
	}
	return w.buf
}

// VP8L is a w × h lossless bitstream of one colour. With noisy, green
// takes one of two values per pixel, a bit each, so the bitstream holds
// w × h bits of pixels; without, every prefix code has a single symbol,
// no pixel takes a bit, and any size fits in 30 bytes.
func VP8L(w, h int, c color.NRGBA, noisy bool) []byte {
	var b bitWriter
	b.write(0x2f, 8)
	b.write(uint64(w-1), 14)
	b.write(uint64(h-1), 14)
	b.write(0, 1)           // alpha is used: no
	b.write(0, 3)           // version
	b.write(0, 1)           // no transform
	b.write(0, 1)           // no colour cache
	b.write(0, 1)           // no meta prefix codes
	one := func(sym byte) { // a simple code of one 8-bit symbol
		b.write(1, 1)
		b.write(0, 1)
		b.write(1, 1)
		b.write(uint64(sym), 8)
	}
	if noisy {
		b.write(1, 1) // simple code of two 8-bit symbols
		b.write(1, 1)
		b.write(1, 1)
		b.write(uint64(c.G), 8)
		b.write(uint64(c.G^0xff), 8)
	} else {
		one(c.G)
	}
	one(c.R)
	one(c.B)
	one(c.A)
	one(0) // distance
	if noisy {
		x := uint32(88172645)
		for range w * h {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b.write(uint64(x&1), 1)
		}
	}
	return b.bytes()
}

// WebPChunk is a RIFF WebPChunk, padded to an even size.
func WebPChunk(id string, data []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// WebPFile is a RIFF WEBP file of chunks.
func WebPFile(chunks ...[]byte) []byte {
	body := bytes.Join(chunks, nil)
	b := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	return append(append(b, "WEBP"...), body...)
}

// WebPStill is a still lossless WebP.
func WebPStill(bitstream []byte) []byte { return WebPFile(WebPChunk("VP8L", bitstream)) }

func le24Bytes(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16)} }

// WebPAnimated is an animation on a w × h canvas of frames placed at the
// top left, each a lossless bitstream of its frame's size.
func WebPAnimated(w, h int, frames ...WebPFrame) []byte {
	vp8x := append([]byte{0x02, 0, 0, 0}, append(le24Bytes(w-1), le24Bytes(h-1)...)...) // animation flag
	chunks := [][]byte{WebPChunk("VP8X", vp8x), WebPChunk("ANIM", make([]byte, 6))}
	for _, f := range frames {
		hdr := append(append(append(le24Bytes(0), le24Bytes(0)...), le24Bytes(f.W-1)...), le24Bytes(f.H-1)...)
		hdr = append(hdr, 100, 0, 0, 0) // duration 100 ms, flags
		chunks = append(chunks, WebPChunk("ANMF", append(hdr, WebPChunk("VP8L", f.Bitstream)...)))
	}
	return WebPFile(chunks...)
}

// WebPFrame is a frame of WebPAnimated.
type WebPFrame struct {
	W, H      int
	Bitstream []byte
}

// SolidFrame is a w × h frame of one colour.
func SolidFrame(w, h int) WebPFrame {
	return WebPFrame{w, h, VP8L(w, h, color.NRGBA{200, 80, 40, 255}, false)}
}

// ProgressiveJPEG is a w × h progressive JPEG (SOF2) of components
// components (1 grey, 3 YCbCr, 4 CMYK with Adobe's marker), all sampled
// 1 × 1, of one DC scan where every block's DC is 0: a bit per block and
// component, and the decoder keeps every block's coefficients.
func ProgressiveJPEG(w, h, components int) []byte {
	seg := func(marker byte, data ...byte) []byte {
		n := len(data) + 2
		return append([]byte{0xff, marker, byte(n >> 8), byte(n)}, data...)
	}
	b := []byte{0xff, 0xd8}
	if components == 4 {
		b = append(b, seg(0xee, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0)...) // transform 0: CMYK
	}
	b = append(b, seg(0xdb, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...)...)
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(components)}
	sos := []byte{byte(components)}
	for c := 1; c <= components; c++ {
		sof = append(sof, byte(c), 0x11, 0)
		sos = append(sos, byte(c), 0x00)
	}
	b = append(b, seg(0xc2, sof...)...)
	b = append(b, seg(0xc4, append([]byte{0x00, 1}, append(make([]byte, 15), 0)...)...)...) // DC table 0: one code, "0", for category 0
	b = append(b, seg(0xda, append(sos, 0, 0, 0)...)...)                                    // Ss 0, Se 0, Ah/Al 0: the first DC scan
	blocks := (w + 7) / 8 * ((h + 7) / 8) * components
	b = append(b, make([]byte, (blocks+7)/8)...)
	return append(b, 0xff, 0xd9)
}

// PNG returns a valid w×h PNG of a smooth pattern.
func PNG(t testing.TB, w, h int) []byte {
	t.Helper()
	return EncodePNG(t, picture(w, h))
}

// JPEG returns a valid 3×2 JPEG.
func JPEG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, picture(3, 2), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// GIF returns a valid 2×3 GIF.
func GIF(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, picture(2, 3), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WebP returns a 1×1 lossless WebP.
func WebP() []byte {
	return WebPStill(VP8L(1, 1, color.NRGBA{40, 120, 200, 255}, false))
}

func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(40 * x), uint8(60 * y), 200, 255})
		}
	}
	return img
}

// PaddedPNG is a valid PNG padded with trailing bytes to exactly n bytes:
// a decoder's configuration never reads past the header.
func PaddedPNG(t testing.TB, n int) []byte {
	t.Helper()
	b := PNG(t, 4, 4)
	if len(b) > n {
		t.Fatalf("a PNG takes %d bytes, more than %d", len(b), n)
	}
	return append(b, make([]byte, n-len(b))...)
}

// NoisePNG returns a w×h PNG of seeded random colours: it does not
// compress, so its size is about 3 bytes a pixel, and two seeds give two
// different images. It may be called from any goroutine: a failure is
// reported with Errorf, and the image is then nil.
func NoisePNG(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, uint64(w)<<32|uint64(h)))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Errorf("testimg: encode a %d×%d PNG: %v", w, h, err)
		return nil
	}
	return b.Bytes()
}
