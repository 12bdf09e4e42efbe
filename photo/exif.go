package photo

import "encoding/binary"

// orientationTag is the TIFF tag of EXIF's Orientation (CIPA DC-008, 4.6.4).
const orientationTag = 0x0112

// exifOrientation returns the Orientation (1 to 8) from TIFF-structured EXIF
// data, or 1 (upright) when the data is damaged, has no such tag, or holds
// a value outside 1 to 8. Only IFD0 is read: the orientation lives there,
// and a damaged file should still get renditions, just not turned.
//
// A parser of our own rather than an EXIF library: the one well-known Go
// library (github.com/rwcarlsen/goexif) has had no release since 2019, and
// one SHORT tag in IFD0 takes forty lines that a fuzz test covers.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 1
	}
	ifd := int64(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 1
	}
	n := int64(order.Uint16(tiff[ifd:]))
	for i := range n {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			return 1
		}
		const typeShort = 3
		if order.Uint16(tiff[e:]) != orientationTag {
			continue
		}
		if order.Uint16(tiff[e+2:]) != typeShort || order.Uint32(tiff[e+4:]) != 1 {
			return 1
		}
		if v := int(order.Uint16(tiff[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
