package photo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"slices"
)

// meta is what renditions take from an original besides its pixels: how
// to turn it upright, and its colour profile. Everything else (EXIF with
// GPS and camera serials, XMP, comments) stays in the original.
type meta struct {
	orientation int    // EXIF Orientation, 1 to 8; 1 when absent
	icc         []byte // the embedded ICC profile; nil when absent or damaged
}

// readMeta reads the orientation and ICC profile of an original of the
// given format from its container, without decoding pixels.
func readMeta(f format, data []byte) meta {
	switch f {
	case formatJPEG:
		return jpegMeta(data)
	case formatPNG:
		return pngMeta(data)
	case formatWebP:
		return webpMeta(data)
	}
	return meta{orientation: 1}
}

// jpegMeta walks the JPEG marker segments up to the first scan: EXIF is in
// an APP1 segment starting "Exif\0\0", an ICC profile in APP2 segments
// starting "ICC_PROFILE\0", split into numbered chunks of at most 64 KB.
func jpegMeta(data []byte) meta {
	m := meta{orientation: 1}
	type chunk struct {
		seq  byte
		data []byte
	}
	var chunks []chunk
	total := 0
	exifSeen := false
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			break
		}
		marker := data[p+1]
		if marker == 0xFF { // fill byte before a marker
			p++
			continue
		}
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			p += 2 // markers without a length
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			break
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			break
		}
		seg := data[p+4 : p+2+n]
		switch {
		case marker == 0xE1 && !exifSeen && bytes.HasPrefix(seg, []byte("Exif\x00\x00")):
			exifSeen = true // a second APP1 Exif segment is not the one viewers use
			m.orientation = exifOrientation(seg[6:])
		case marker == 0xE2 && len(seg) > 14 && bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")):
			if total == 0 {
				total = int(seg[13])
			}
			chunks = append(chunks, chunk{seq: seg[12], data: seg[14:]})
		}
		p += 2 + n
	}
	// The profile counts only when every chunk 1..total is there once.
	if total > 0 && len(chunks) == total {
		slices.SortFunc(chunks, func(a, b chunk) int { return int(a.seq) - int(b.seq) })
		var icc []byte
		for i, c := range chunks {
			if int(c.seq) != i+1 {
				return m
			}
			icc = append(icc, c.data...)
		}
		m.icc = icc
	}
	return m
}

// maxICC bounds a decompressed PNG iCCP profile: real profiles are a few
// KB (the largest common ones under 1 MB), and a compressed chunk must not
// inflate without bound.
const maxICC = 1 << 20

// pngMeta walks the PNG chunks: EXIF is the eXIf chunk (TIFF data), the
// profile the zlib-compressed iCCP chunk. The CRCs are not checked here;
// the decoder checks the ones it needs for pixels.
func pngMeta(data []byte) meta {
	m := meta{orientation: 1}
	for p := 8; p+12 <= len(data); {
		n := int64(binary.BigEndian.Uint32(data[p:]))
		typ := string(data[p+4 : p+8])
		if int64(p)+12+n > int64(len(data)) {
			break
		}
		body := data[p+8 : p+8+int(n)]
		switch typ {
		case "eXIf":
			m.orientation = exifOrientation(body)
		case "iCCP":
			m.icc = inflateICC(body)
		case "IEND":
			return m
		}
		p += 12 + int(n)
	}
	return m
}

// inflateICC returns the profile of an iCCP chunk body: a name of 1 to 79
// bytes, a zero byte, compression method 0 and zlib data.
func inflateICC(body []byte) []byte {
	i := bytes.IndexByte(body, 0)
	if i < 1 || i+2 > len(body) || body[i+1] != 0 {
		return nil
	}
	r, err := zlib.NewReader(bytes.NewReader(body[i+2:]))
	if err != nil {
		return nil
	}
	icc, err := io.ReadAll(io.LimitReader(r, maxICC+1))
	if err != nil || len(icc) > maxICC {
		return nil
	}
	return icc
}

// webpMeta walks the RIFF chunks of a WebP file: EXIF and ICCP chunks
// appear in the extended (VP8X) layout. Some writers start the EXIF chunk
// with JPEG's "Exif\0\0" prefix; it is skipped.
func webpMeta(data []byte) meta {
	m := meta{orientation: 1}
	for p := 12; p+8 <= len(data); {
		n := int64(binary.LittleEndian.Uint32(data[p+4:]))
		if int64(p)+8+n > int64(len(data)) {
			break
		}
		body := data[p+8 : p+8+int(n)]
		switch string(data[p : p+4]) {
		case "EXIF":
			m.orientation = exifOrientation(bytes.TrimPrefix(body, []byte("Exif\x00\x00")))
		case "ICCP":
			m.icc = body
		}
		p += 8 + int(n) + int(n&1) // chunks are padded to an even size
	}
	return m
}
