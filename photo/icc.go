package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// ICC profiles: a rendition keeps its original's profile when the profile
// says something a browser would not assume, and drops it otherwise.
//
//   - An sRGB profile is dropped: browsers assume sRGB for untagged images,
//     and a common sRGB profile is 3 KB, as large as a whole thumbnail.
//   - Any other profile for the rendition's colour space (RGB, or GRAY for
//     a grey rendition) is kept: a phone's Display P3 photo shown without
//     its 0.5 KB profile looks dull, and resampling does not change the
//     colour space, so the profile still describes the pixels.
//   - A profile for another colour space (CMYK originals, which are
//     converted to RGB naively by the decoder) is dropped.
//
// Converting to sRGB instead would need a colour-management engine, and
// none in pure Go is well kept; keeping the profile is exact.

// keepICC reports whether a rendition in the given ICC colour space
// ("RGB " or "GRAY") keeps the profile.
func keepICC(icc []byte, space string) bool {
	const headerSize = 128
	if len(icc) < headerSize+4 || string(icc[36:40]) != "acsp" || string(icc[16:20]) != space {
		return false
	}
	return !isSRGB(icc)
}

// isSRGB reports whether the profile's description names sRGB, in its
// ASCII (ICC v2 "desc") or UTF-16 (ICC v4 "mluc") form.
func isSRGB(icc []byte) bool {
	n := int(binary.BigEndian.Uint32(icc[128:]))
	for i := range n {
		e := 132 + 12*i
		if e+12 > len(icc) {
			return false
		}
		if string(icc[e:e+4]) != "desc" {
			continue
		}
		off, size := int64(binary.BigEndian.Uint32(icc[e+4:])), int64(binary.BigEndian.Uint32(icc[e+8:]))
		if off+size > int64(len(icc)) {
			return false
		}
		d := icc[off : off+size]
		return bytes.Contains(d, []byte("sRGB")) || bytes.Contains(d, []byte("\x00s\x00R\x00G\x00B"))
	}
	return false
}

// jpegICCChunk is the most profile bytes one APP2 segment carries: 65535
// less the length field (2), "ICC_PROFILE\0" (12) and the chunk number and
// count (2).
const jpegICCChunk = 65535 - 2 - 14

// withJPEGICC returns the JPEG enc with the profile in APP2 segments right
// after its SOI marker, where ICC.1 (Annex B.4) puts it.
func withJPEGICC(enc, icc []byte) []byte {
	count := (len(icc) + jpegICCChunk - 1) / jpegICCChunk
	if count > 255 {
		return enc // cannot be numbered; never seen in practice
	}
	out := make([]byte, 0, len(enc)+len(icc)+18*count)
	out = append(out, enc[:2]...)
	for i := range count {
		chunk := icc[i*jpegICCChunk : min((i+1)*jpegICCChunk, len(icc))]
		out = append(out, 0xFF, 0xE2)
		out = binary.BigEndian.AppendUint16(out, uint16(2+14+len(chunk)))
		out = append(out, "ICC_PROFILE\x00"...)
		out = append(out, byte(i+1), byte(count))
		out = append(out, chunk...)
	}
	return append(out, enc[2:]...)
}

// withPNGICC returns the PNG enc with an iCCP chunk right after IHDR, as
// the PNG specification requires (before PLTE and IDAT).
func withPNGICC(enc, icc []byte) []byte {
	var body bytes.Buffer
	body.WriteString("iCCP")
	body.WriteString("ICC profile\x00\x00") // name, terminator, method 0 (zlib)
	zw := zlib.NewWriter(&body)
	zw.Write(icc) // a bytes.Buffer does not fail
	zw.Close()
	const ihdrEnd = 8 + 8 + 13 + 4 // signature, IHDR length+type, data, CRC
	out := make([]byte, 0, len(enc)+body.Len()+8)
	out = append(out, enc[:ihdrEnd]...)
	out = binary.BigEndian.AppendUint32(out, uint32(body.Len()-4))
	out = append(out, body.Bytes()...)
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body.Bytes()))
	return append(out, enc[ihdrEnd:]...)
}
