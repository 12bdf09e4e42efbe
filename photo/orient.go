package photo

// orientedSize is the upright size of a w×h image stored with the EXIF
// orientation o: orientations 5 to 8 turn it a quarter, swapping the sides.
func orientedSize(w, h, o int) (int, int) {
	if o >= 5 && o <= 8 {
		return h, w
	}
	return w, h
}

// orient returns r turned upright from EXIF orientation o (1 to 8).
// Renditions are turned after resampling, on at most 1600 px, never on
// the 12 MP original.
func orient(r raster, o int) raster {
	if o < 2 || o > 8 {
		return r
	}
	w, h := orientedSize(r.w, r.h, o)
	out := raster{kind: r.kind, w: w, h: h, planes: make([]plane, len(r.planes))}
	for i, p := range r.planes {
		out.planes[i] = orientPlane(p, o)
	}
	return out
}

// orientPlane turns one plane upright. Along each row of the upright
// plane, the stored sample to read moves by a fixed step: a sample across
// for turns of 0 or 180 degrees and mirrors (orientations 2 to 4), a row
// down or up for quarter turns (5 to 8). EXIF's words for orientation 6,
// for example: the stored row 0 is the visual right-hand side and the
// stored column 0 the visual top, so upright row v is stored column v,
// read from the bottom up.
func orientPlane(p plane, o int) plane {
	w, h := orientedSize(p.w, p.h, o)
	out := newPlane(w, h, p.ch)
	lastRow, lastCol := (p.h-1)*p.stride, (p.w-1)*p.ch
	for v := range h {
		var start, step int // stored index of upright (0, v), and per u
		switch o {
		case 2: // mirrored left to right
			start, step = v*p.stride+lastCol, -p.ch
		case 3: // turned half a turn
			start, step = lastRow-v*p.stride+lastCol, -p.ch
		case 4: // mirrored top to bottom
			start, step = lastRow-v*p.stride, p.ch
		case 5: // mirrored along the top-left to bottom-right diagonal
			start, step = v*p.ch, p.stride
		case 6: // stored a quarter turn anticlockwise
			start, step = lastRow+v*p.ch, -p.stride
		case 7: // mirrored along the other diagonal
			start, step = lastRow+lastCol-v*p.ch, -p.stride
		case 8: // stored a quarter turn clockwise
			start, step = lastCol-v*p.ch, p.stride
		}
		row := out.pix[v*out.stride : v*out.stride+w*p.ch]
		if p.ch == 1 {
			for u := range row {
				row[u] = p.pix[start+u*step]
			}
			continue
		}
		for u := 0; u < len(row); u += p.ch {
			copy(row[u:u+p.ch], p.pix[start+(u/p.ch)*step:])
		}
	}
	return out
}
