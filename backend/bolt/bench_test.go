package bolt_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// BenchmarkPostMessageNotifies posts from 32 writers into a chat of 1, 2, 10 and 100 members:
// every post there also decides and records a notification for each other member, in the same
// group commit. It measures what server-side per-recipient decisions cost.
//
//	go test -run '^$' -bench PostMessageNotifies -benchtime 2s ./backend/bolt/
func BenchmarkPostMessageNotifies(b *testing.B) {
	for _, members := range []int{1, 2, 10, 100} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			e := newEnv(b)
			us := e.users(members)
			chat := e.chat("bench", us[0], us[1:]...)
			// Everyone has set preferences, as real users do: each decision reads them.
			p := backend.DefaultPreferences()
			p.QuietHours = &backend.QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"}
			p.Kinds = map[backend.NotificationKind]bool{backend.KindAgent: false}
			for _, u := range us {
				if err := e.s.SetPreferences(e.ctx, u.ID, p); err != nil {
					b.Fatal(err)
				}
			}
			var n atomic.Int64
			b.SetParallelism(16) // 32 writers on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					author := us[int(n.Add(1))%members]
					m := &backend.Message{ChatID: chat.ID, AuthorID: author.ID, Content: "benchmark message"}
					if _, _, err := e.s.PostMessage(e.ctx, m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "msgs/s")
			b.ReportMetric(float64(b.N*(members-1))/secs, "notifications/s")
		})
	}
}

// BenchmarkDeleteMessage deletes messages of a 10-member chat that holds 20,000 (each with its
// notifications), against a baseline of editing them: the difference is what erasing costs —
// rewriting the events that carried the message and scrubbing the file's free pages.
//
//	go test -run '^$' -bench DeleteMessage -benchtime 200x ./backend/bolt/
func BenchmarkDeleteMessage(b *testing.B) {
	for _, op := range []string{"edit", "delete"} {
		b.Run(op, func(b *testing.B) {
			e := newEnv(b)
			us := e.users(10)
			chat := e.chat("bench", us[0], us[1:]...)
			ids := e.postConcurrently(chat, us[1], 20_000, 32)
			if b.N > len(ids) {
				b.Fatalf("b.N %d > %d messages", b.N, len(ids))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if op == "edit" {
					_, err = e.s.EditMessage(e.ctx, chat.ID, ids[i*7%len(ids)], us[1].ID, fmt.Sprintf("edited %d", i))
				} else {
					_, err = e.s.DeleteMessage(e.ctx, chat.ID, ids[i*7%len(ids)], us[1])
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
	}
}
