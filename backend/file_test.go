package backend_test

import (
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

func TestUploadQuotaDays(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	late := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	if got := backend.UploadDay(late); got != "20261231" {
		t.Fatalf("UploadDay = %s", got)
	}
	// 00:30 in Berlin on 1 January is still 31 December in UTC.
	if got := backend.UploadDay(time.Date(2027, 1, 1, 0, 30, 0, 0, berlin)); got != "20261231" {
		t.Fatalf("UploadDay in another zone = %s", got)
	}
	if got := backend.UploadDayEnds(late); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("UploadDayEnds = %s", got)
	}
}

func TestCheckUploadQuota(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		used, size, quota int64
		want              string // "" fits
	}{
		{0, 10 * mb, 10 * mb, ""},
		{5 * mb, 5 * mb, 10 * mb, ""},
		{5 * mb, 5*mb + 1, 10 * mb, "You have uploaded 5 MB today; the daily limit is 10 MB."},
		{mb / 2, 2 * mb, mb, "You have uploaded 0.5 MB today; the daily limit is 1 MB."},
		{100 * mb, 100 * mb, 0, ""}, // no quota
	}
	for _, tt := range tests {
		err := backend.CheckUploadQuota(tt.used, tt.size, tt.quota)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt, err)
			}
			continue
		}
		if backend.ErrorCode(err) != backend.ERATELIMIT || backend.ErrorMessage(err) != tt.want {
			t.Errorf("%+v: %v, want %q", tt, err, tt.want)
		}
	}
}
