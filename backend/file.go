package backend

import (
	"path"
	"strconv"
	"strings"
	"time"
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

// UploadDay is the day an upload made at t counts against in its uploader's daily quota: the
// UTC date, "20261201". The quota starts afresh at midnight UTC.
func UploadDay(t time.Time) string { return t.UTC().Format("20060102") }

// UploadDayEnds is when the quota day of t ends: the next midnight UTC.
func UploadDayEnds(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// CheckUploadQuota decides whether an upload of size bytes fits a daily quota of quota bytes
// when used bytes were uploaded on the same UTC day already; quota <= 0 is no quota. The refusal
// is an ERATELIMIT *Error that tells the user what they uploaded and the limit, in MB (MiB).
func CheckUploadQuota(used, size, quota int64) error {
	if quota <= 0 || used+size <= quota {
		return nil
	}
	return Errorf(ERATELIMIT, "You have uploaded %s MB today; the daily limit is %s MB.", megabytes(used), megabytes(quota))
}

// megabytes formats n bytes in MiB with at most one decimal: "0", "0.5", "1024".
func megabytes(n int64) string {
	s := strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}
