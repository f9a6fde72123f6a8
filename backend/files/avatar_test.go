package files_test

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// Every image of testdata (PNG of every depth and colour type, interlaced, transparent; JPEG
// 4:2:0, 4:4:4, progressive, grey, CMYK, RGB; GIF) becomes square PNGs of exactly the asked sizes.
func TestMakeAvatarFromEveryFormat(t *testing.T) {
	p, _ := newProcessor(t)
	names, err := filepath.Glob("testdata/*.*g*")
	if err != nil || len(names) < 10 {
		t.Fatalf("testdata: %v %v", names, err)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.MakeAvatar(context.Background(), bytes.NewReader(data), []int{64, 256})
			if err != nil {
				t.Fatal(err)
			}
			for i, size := range []int{64, 256} {
				img, _, err := image.Decode(bytes.NewReader(out[i]))
				if err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
					t.Fatalf("size %d is %v", size, b)
				}
			}
		})
	}
}

func TestMakeAvatarRefuses(t *testing.T) {
	p, _ := newProcessor(t)
	for name, tc := range map[string]struct {
		data []byte
		code string
	}{
		"text":      {[]byte("not an image at all"), backend.EUNSUPPORTED},
		"truncated": {photo()[:4096], backend.EINVALID},
		"bomb":      {bomb(), backend.ETOOLARGE},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.MakeAvatar(context.Background(), bytes.NewReader(tc.data), []int{64, 256})
			if backend.ErrorCode(err) != tc.code {
				t.Fatalf("MakeAvatar = %v, want %s", err, tc.code)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.MakeAvatar(ctx, bytes.NewReader(photo()), []int{64}); err == nil {
		t.Fatal("a cancelled request was decoded")
	}
}
