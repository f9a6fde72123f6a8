package backend

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FileStatus is where an uploaded file is in processing.
type FileStatus string

const (
	FileProcessing FileStatus = "processing"
	FileReady      FileStatus = "ready"
	FileFailed     FileStatus = "failed"
)

// File is an upload to a chat and what processing learned about it. The bytes live in the data
// directory under the file's id, never under its name.
type File struct {
	ID         string     `json:"id"`
	ChatID     string     `json:"chatId"`
	UploaderID string     `json:"uploaderId"`
	Name       string     `json:"name"` // made safe by SafeFileName
	Size       int64      `json:"size"` // bytes
	MIME       string     `json:"mime,omitempty"`
	Status     FileStatus `json:"status"`
	Error      string     `json:"error,omitempty"` // why processing failed
	SHA256     string     `json:"sha256,omitempty"`
	Width      int        `json:"width,omitempty"`  // pixels, images only
	Height     int        `json:"height,omitempty"` // pixels, images only
	Thumbnail  bool       `json:"thumbnail,omitempty"`
	Preview    string     `json:"preview,omitempty"` // the start of a text file
	CreatedAt  int64      `json:"createdAt"`         // Unix ms
}

// MaxFileNameLen bounds a file name (bytes).
const MaxFileNameLen = 200

// SafeFileName makes a client's file name safe to store and show: only its last path element,
// no control or format characters, no leading dots or spaces and no trailing spaces, at most
// MaxFileNameLen bytes of valid UTF-8; "file" when nothing is left. It is idempotent.
func SafeFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base("/" + name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeftFunc(name, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	for len(name) > MaxFileNameLen {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	name = strings.TrimRightFunc(name, unicode.IsSpace)
	if name == "" || name == "/" {
		return "file"
	}
	return name
}

// UploadProgress is what FILE_UPLOAD_PROGRESS tells the uploader while bytes arrive.
type UploadProgress struct {
	Name   string `json:"name"`
	Loaded int64  `json:"loaded"` // bytes received so far
	Total  int64  `json:"total"`  // the request's length in bytes, -1 when unknown
}
