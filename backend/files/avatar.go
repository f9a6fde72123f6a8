package files

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"runtime"

	"github.com/herald-chat/herald/backend"
	"golang.org/x/image/draw"
)

// avatarTypes are the image types MakeAvatar accepts, as http.DetectContentType names them.
var avatarTypes = map[string]string{"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif"}

// MakeAvatar decodes the image in (PNG, JPEG or GIF: its first frame), crops the largest centred
// square out of it and scales that to each of sizes (pixels), returning one image per size in
// order: a JPEG (quality avatarQuality) when the square is opaque, as photos are — a fifth of the
// PNG's size or less — and a PNG when it has transparency. Decoding shares the processor's budget with file processing (MaxDecodeBytes at once),
// and an image whose decoded form would not fit is refused before it is decoded.
//
// Errors: EUNSUPPORTED for content that is not one of those types, EINVALID for a broken image,
// ETOOLARGE for one that would decode into more than MaxDecodeBytes, ctx's error when it has
// ended before decoding starts (the wait for the budget itself is bounded by the decodes in
// progress).
func (p *Processor) MakeAvatar(ctx context.Context, in io.ReadSeeker, sizes []int) ([][]byte, error) {
	head := make([]byte, 512)
	n, _ := io.ReadFull(in, head)
	kind, ok := avatarTypes[http.DetectContentType(head[:n])]
	if !ok {
		return nil, backend.Errorf(backend.EUNSUPPORTED, "The picture must be a PNG, JPEG or GIF image.")
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("avatar: %w", err)
	}
	cfg, format, err := image.DecodeConfig(in)
	if err != nil || format != kind {
		return nil, backend.Errorf(backend.EINVALID, "Not a valid %s image.", kind)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, backend.Errorf(backend.EINVALID, "The image is %d×%d pixels; it has no pixels to show.", cfg.Width, cfg.Height)
	}
	size, err := decodeSize(in, format, cfg)
	if err != nil {
		return nil, fmt.Errorf("avatar: %w", err)
	}
	if size > MaxDecodeBytes {
		return nil, backend.Errorf(backend.ETOOLARGE, "The image is %d×%d pixels; decoding it would take %d MiB, more than the %d MiB this server decodes at once.",
			cfg.Width, cfg.Height, (size+1<<20-1)>>20, MaxDecodeBytes>>20)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.decoding.acquire(size)
	scaled, err := decodeSquares(in, sizes)
	p.decoding.release(size)
	if size >= MaxDecodeBytes/4 {
		runtime.GC() // as decodeThumbnail: the next decode must not find this one still in memory
	}
	if err != nil {
		return nil, backend.Errorf(backend.EINVALID, "Not a valid %s image: %v.", kind, err)
	}
	out := make([][]byte, len(scaled))
	for i, img := range scaled {
		var buf bytes.Buffer
		if img.Opaque() {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: avatarQuality})
		} else {
			err = png.Encode(&buf, img)
		}
		if err != nil {
			return nil, fmt.Errorf("encode avatar: %w", err)
		}
		out[i] = buf.Bytes()
	}
	return out, nil
}

// avatarQuality is the JPEG quality of opaque avatars.
const avatarQuality = 85

// decodeSquares decodes the image and returns its centred square scaled to each of sizes. Only
// the largest is scaled from the decoded image; the smaller ones from it, so that the decoded
// image is held for one scaling only.
func decodeSquares(in io.ReadSeeker, sizes []int) ([]*image.RGBA, error) {
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(in)
	if err != nil {
		return nil, err
	}
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s)
	}
	src := centredSquare(img.Bounds())
	big := image.NewRGBA(image.Rect(0, 0, largest, largest))
	draw.CatmullRom.Scale(big, big.Bounds(), img, src, draw.Src, nil)
	out := make([]*image.RGBA, len(sizes))
	for i, s := range sizes {
		if s == largest {
			out[i] = big
			continue
		}
		small := image.NewRGBA(image.Rect(0, 0, s, s))
		draw.CatmullRom.Scale(small, small.Bounds(), big, big.Bounds(), draw.Src, nil)
		out[i] = small
	}
	return out, nil
}

// centredSquare is the largest square in the middle of r.
func centredSquare(r image.Rectangle) image.Rectangle {
	side := min(r.Dx(), r.Dy())
	x := r.Min.X + (r.Dx()-side)/2
	y := r.Min.Y + (r.Dy()-side)/2
	return image.Rect(x, y, x+side, y+side)
}
