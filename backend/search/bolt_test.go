package search_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/search"
)

// The tests in this file run against the real bolt store, with messages posted through
// PostMessage.

// crashChildEnv names the data directory of the child process TestCatchUpAfterCrash kills.
const crashChildEnv = "HERALD_SEARCH_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild is the process TestCatchUpAfterCrash kills: it posts messages to a real store with
// an index fed in small batches, says READY once the index holds the first 100, and goes on
// posting (at most 3,000 more) until it is killed.
func crashChild(dir string) {
	t := &childT{}
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 3)
	ix, err := search.Open(filepath.Join(dir, "search"), bt.store, bt.store, search.WithLogger(quietLogger()), search.WithBatchSize(7))
	if err != nil {
		panic(err)
	}
	bt.store.SetPublisher(ix)
	var wg sync.WaitGroup
	for w := range 4 { // concurrent posters: commits and batches interleave
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 775 {
				m := bt.post(t, bt.chats[i%3], []*backend.User{bt.alice, bt.bob}[i%2], fmt.Sprintf("crash message %d from poster %d", i, w))
				if w == 0 && i == 25 {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					if err := ix.WaitFor(ctx, m.ID); err != nil {
						panic(err)
					}
					cancel()
					fmt.Println("READY")
				}
			}
		}()
	}
	wg.Wait()
	select {} // killed by the parent; never returns
}

// childT is the testing.TB of crashChild: a failure ends the process.
type childT struct{ testing.TB }

func (*childT) Helper()                   {}
func (*childT) Cleanup(func())            {}
func (*childT) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (*childT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// TestCatchUpAfterCrash kills (SIGKILL) a process that posts messages while its index is being
// fed, then opens the same data: the index resumes from its cursor — no rebuild — and holds every
// message the store committed, each once.
func TestCatchUpAfterCrash(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if s.Text() == "READY" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatal("the child ended before it was ready")
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the child did not get ready")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	store := openStore(t, filepath.Join(dir, "herald.db"))
	var all []string
	chats := map[string]bool{}
	if err := store.AllMessages(context.Background(), func(m *backend.Message) error {
		all = append(all, m.ID)
		chats[m.ChatID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	last, err := store.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ix := openIndex(t, filepath.Join(dir, "search"), store, store)
	before := ix.Cursor()
	caughtUp(t, ix, last)
	got := find(t, ix, backend.SearchQuery{Terms: terms(t, "crash message"), ChatIDs: mapKeys(chats), Limit: backend.MaxSearchLimit})
	if !slices.Equal(sorted(got), sorted(all)) {
		t.Errorf("found %d messages, the store holds %d", len(got), len(all))
	}
	st := ix.Stats()
	if st.Rebuilds != 0 {
		t.Errorf("the crashed index was rebuilt (%+v): it should have resumed from its cursor", st)
	}
	t.Logf("killed with %d messages committed; the index resumed at %s and indexed %d more in %d batches", len(all), before, st.Indexed, st.Batches)
}

func mapKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestRebuildWhenDirDeleted: with its directory gone, the index is built again from the store.
func TestRebuildWhenDirDeleted(t *testing.T) {
	dir := t.TempDir()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 2)
	var want []string
	for i := range 25 {
		want = append(want, bt.post(t, bt.chats[i%2], bt.alice, fmt.Sprintf("rebuild me %d", i)).ID)
	}
	index := filepath.Join(dir, "search")
	ix := openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(index); err != nil {
		t.Fatal(err)
	}
	want = append(want, bt.post(t, bt.chats[0], bt.bob, "rebuild me too").ID)
	ix = openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if st := ix.Stats(); st.Rebuilds != 1 {
		t.Errorf("stats %+v, want a rebuild", st)
	}
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "rebuild"), ChatIDs: bt.chats}); !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("found %d, want %d", len(got), len(want))
	}
	// And it goes on from there.
	m := bt.post(t, bt.chats[1], bt.alice, "after the rebuild")
	ix.Notify()
	caughtUp(t, ix, m.ID)
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, `"after the rebuild"`), ChatIDs: bt.chats}); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("after the rebuild: %v", got)
	}
}

// TestRebuildWhenCursorPruned: retention pruned the events after the index's cursor (the index
// was closed meanwhile): it is rebuilt from the messages, then fed from the log's end, and the
// old index's directory is removed.
func TestRebuildWhenCursorPruned(t *testing.T) {
	dir := t.TempDir()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 1)
	var want []string
	for i := range 10 {
		want = append(want, bt.post(t, bt.chats[0], bt.alice, fmt.Sprintf("pruned %d", i)).ID)
	}
	index := filepath.Join(dir, "search")
	ix := openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	cursor := ix.Cursor()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		want = append(want, bt.post(t, bt.chats[0], bt.bob, fmt.Sprintf("pruned later %d", i)).ID)
	}
	n, err := bt.store.PruneEvents(context.Background(), time.Now().Add(time.Hour), 1, 100)
	if err != nil || n == 0 {
		t.Fatalf("PruneEvents = %d, %v", n, err)
	}
	if _, err := bt.store.EventsAfter(context.Background(), cursor, 1); !errors.Is(err, backend.ErrEventNotFound) {
		t.Fatalf("the cursor %s is still in the log (%v)", cursor, err)
	}
	ix = openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if st := ix.Stats(); st.Rebuilds != 1 {
		t.Errorf("stats %+v, want a rebuild", st)
	}
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "pruned"), ChatIDs: bt.chats}); !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("found %d, want %d", len(got), len(want))
	}
	m := bt.post(t, bt.chats[0], bt.alice, "pruned at last")
	caughtUp(t, ix, m.ID)
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "pruned last"), ChatIDs: bt.chats}); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("after the rebuild: %v", got)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(index)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"CURRENT", "index-00000002"}) {
		t.Errorf("the search dir holds %v, want CURRENT and the new index only", names)
	}
}

// TestRealStoreSearch: replies are messages too, the store's FILE messages carry their name,
// and a user's chats bound the search.
func TestRealStoreSearch(t *testing.T) {
	dir := t.TempDir()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 2)
	ix := openIndex(t, filepath.Join(dir, "search"), bt.store, bt.store)
	bt.store.SetPublisher(ix)
	parent := bt.post(t, bt.chats[0], bt.alice, "quarterly planning thread")
	reply, _, err := bt.store.PostMessage(context.Background(), &backend.Message{ChatID: bt.chats[0], AuthorID: bt.bob.ID,
		Content: "quarterly numbers attached", ParentID: parent.ID})
	if err != nil {
		t.Fatal(err)
	}
	other := bt.post(t, bt.chats[1], bt.bob, "quarterly offsite")
	caughtUp(t, ix, bt.last(t))
	q := backend.SearchQuery{Terms: terms(t, "quarterly"), ChatIDs: bt.chats[:1]}
	if got := find(t, ix, q); !slices.Equal(got, []string{reply.ID, parent.ID}) {
		t.Errorf("chat 0: %v, want the reply and its parent", got)
	}
	q.ChatIDs = bt.chats
	if got := find(t, ix, q); !slices.Equal(got, []string{other.ID, reply.ID, parent.ID}) {
		t.Errorf("both chats: %v", got)
	}
	q.From = bt.bob.ID
	if got := find(t, ix, q); !slices.Equal(got, []string{other.ID, reply.ID}) {
		t.Errorf("from bob: %v", got)
	}
	if got := strings.Join(find(t, ix, backend.SearchQuery{Terms: terms(t, "planning thread"), ChatIDs: bt.chats}), ","); got != parent.ID {
		t.Errorf("two words: %v", got)
	}
}

// TestRebuildReadsEveryMessage: a rebuild reads the store in chunks of read transactions (1,000
// messages each); none is lost or read twice at their seams, across chats.
func TestRebuildReadsEveryMessage(t *testing.T) {
	dir := t.TempDir()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 3)
	const n = 2100
	ids := make([]string, n)
	var wg sync.WaitGroup
	for w := range 8 { // concurrent posters share commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				ids[i] = bt.post(t, bt.chats[i%3], bt.alice, fmt.Sprintf("seam %d", i)).ID
			}
		}()
	}
	wg.Wait()
	ix := openIndex(t, filepath.Join(dir, "search"), bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if st := ix.Stats(); st.Rebuilds != 1 || st.Indexed != 0 {
		t.Fatalf("stats %+v: want the messages from the rebuild alone", st)
	}
	got := find(t, ix, backend.SearchQuery{Terms: terms(t, "seam"), ChatIDs: bt.chats, Limit: backend.MaxSearchLimit})
	if !slices.Equal(sorted(got), sorted(ids)) {
		t.Errorf("found %d of %d", len(got), n)
	}
}

// TestEditReplacesTheWords: after an edit the new words are found and the old ones are not, at
// once, and the old ones leave the index's files.
func TestEditReplacesTheWords(t *testing.T) {
	dir := t.TempDir()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 1)
	index := filepath.Join(dir, "search")
	ix := openIndex(t, index, bt.store, bt.store)
	m := bt.post(t, bt.chats[0], bt.alice, "the plan is zqxoldword4410 for now")
	other := bt.post(t, bt.chats[0], bt.alice, "an unrelated message to keep around")
	caughtUp(t, ix, bt.last(t))
	q := func(word string) []string {
		return find(t, ix, backend.SearchQuery{Terms: terms(t, word), ChatIDs: bt.chats})
	}
	if got := q("zqxoldword4410"); !slices.Equal(got, []string{m.ID}) {
		t.Fatalf("before the edit: %v", got)
	}
	if files := onDisk(t, index, "zqxoldword4410"); len(files) == 0 {
		t.Fatal("the index files do not hold the word before the edit: the erasure check below would prove nothing")
	}
	bt.edit(t, m, bt.alice, "the plan is zqxnewword5521 now")
	caughtUp(t, ix, bt.last(t))
	if got := q("zqxoldword4410"); got != nil {
		t.Errorf("old word still found after the edit: %v", got)
	}
	if got := q("zqxnewword5521"); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("new word: %v", got)
	}
	if got := q("plan"); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("a word the edit kept: %v", got)
	}
	erased(t, ix)
	if files := onDisk(t, index, "zqxoldword4410"); files != nil {
		t.Errorf("the edit's old word is still in %v", files)
	}
	if files := onDisk(t, index, "zqxnewword5521"); len(files) == 0 {
		t.Error("the new word is in no file")
	}
	if got := q("unrelated"); !slices.Equal(got, []string{other.ID}) {
		t.Errorf("erasure lost another message: %v", got)
	}
}

// TestDeleteErases: a deleted message (a top-level one and a reply) is never found again, and
// its words leave every file of the index directory; later events that carry its tombstone do
// not bring it back, and neither does a rebuild from the store.
func TestDeleteErases(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 2)
	index := filepath.Join(dir, "search")
	ix := openIndex(t, index, bt.store, bt.store)
	keep := bt.post(t, bt.chats[0], bt.alice, "keep this zqxkeep9902 message")
	doomed := bt.post(t, bt.chats[0], bt.bob, "a zqxsecret7731 password, oops")
	followUp := bt.reply(t, bt.chats[0], doomed.ID, bt.alice, "rotate it now")
	parent := bt.post(t, bt.chats[1], bt.alice, "a thread")
	reply := bt.reply(t, bt.chats[1], parent.ID, bt.bob, "a reply with zqxreply6620 in it")
	caughtUp(t, ix, bt.last(t))
	q := func(word string) []string {
		return find(t, ix, backend.SearchQuery{Terms: terms(t, word), ChatIDs: bt.chats})
	}
	for word, id := range map[string]string{"zqxsecret7731": doomed.ID, "zqxreply6620": reply.ID} {
		if got := q(word); !slices.Equal(got, []string{id}) {
			t.Fatalf("%s before the deletion: %v", word, got)
		}
		if files := onDisk(t, index, word); len(files) == 0 {
			t.Fatalf("no index file holds %s before the deletion: the check below would prove nothing", word)
		}
	}
	bt.remove(t, doomed, bt.bob)
	bt.remove(t, reply, bt.alice) // an admin's delete
	caughtUp(t, ix, bt.last(t))
	for _, word := range []string{"zqxsecret7731", "zqxreply6620", "oops", "password"} {
		if got := q(word); got != nil {
			t.Errorf("%s found after the deletion: %v", word, got)
		}
	}
	erased(t, ix)
	for _, word := range []string{"zqxsecret7731", "zqxreply6620"} {
		if files := onDisk(t, index, word); files != nil {
			t.Errorf("%s is still in %v", word, files)
		}
	}
	if got := q("zqxkeep9902"); !slices.Equal(got, []string{keep.ID}) {
		t.Errorf("the kept message: %v", got)
	}

	// Later events that carry the tombstone do not bring it back: deleting the reply to the
	// deleted message logs the tombstone's new replyCount as MESSAGE_UPDATED.
	cursor, before := ix.Cursor(), ix.Stats()
	bt.remove(t, followUp, bt.alice)
	caughtUp(t, ix, bt.last(t))
	tombs := 0
	for _, ev := range bt.eventsAfter(t, cursor) {
		if ev.Type == backend.EventMessageUpdated && ev.Message != nil && ev.Message.ID == doomed.ID && ev.Message.Deleted {
			tombs++
		}
	}
	if tombs != 1 {
		t.Fatalf("%d MESSAGE_UPDATEDs of the tombstone after deleting its reply, want 1: the check below would prove nothing", tombs)
	}
	if got := q("zqxsecret7731"); got != nil {
		t.Errorf("found after a tombstone's update: %v", got)
	}
	if st := ix.Stats(); st.Indexed != before.Indexed {
		t.Errorf("stats before %+v, after %+v: a tombstone's update wrote a document", before, st)
	}

	// Reopened, and rebuilt from the messages, the index holds it nowhere either.
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	cursor = ix.Cursor()
	bt.post(t, bt.chats[0], bt.alice, "after the close")
	if n, err := bt.store.PruneEvents(ctx, time.Now().Add(time.Hour), 1, 100); err != nil || n == 0 {
		t.Fatalf("PruneEvents = %d, %v", n, err)
	}
	if _, err := bt.store.EventsAfter(ctx, cursor, 1); !errors.Is(err, backend.ErrEventNotFound) {
		t.Fatalf("the cursor %s is still in the log (%v)", cursor, err)
	}
	ix = openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if st := ix.Stats(); st.Rebuilds != 1 {
		t.Fatalf("after pruning: %+v, want a rebuild", st)
	}
	for _, word := range []string{"zqxsecret7731", "zqxreply6620"} {
		if got := q(word); got != nil {
			t.Errorf("%s found after the rebuild: %v", word, got)
		}
		if files := onDisk(t, index, word); files != nil {
			t.Errorf("after the rebuild, %s is in %v", word, files)
		}
	}
	if got := q("zqxkeep9902"); !slices.Equal(got, []string{keep.ID}) {
		t.Errorf("the kept message after the rebuild: %v", got)
	}
}

// staleSource hands a rebuild the store's messages as they were when its walk began, once
// release is closed: the rebuild's walk (in chunks of read transactions) may see a message in a
// state older than the log's last event.
type staleSource struct {
	search.MessageSource
	entered chan struct{}
	release chan struct{}
}

func (s *staleSource) AllMessages(ctx context.Context, fn func(*backend.Message) error) error {
	var msgs []*backend.Message
	if err := s.MessageSource.AllMessages(ctx, func(m *backend.Message) error {
		msgs = append(msgs, m)
		return nil
	}); err != nil {
		return err
	}
	close(s.entered)
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, m := range msgs {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// TestDeletedStaysOutOfReplayAndRebuild: deleting a message rewrites its logged NEW_MESSAGE and
// MESSAGE_UPDATEDs to carry the tombstone, so an index that replays the log from before the post,
// or is rebuilt from the store, never indexes the message — its words never reach a file. A
// rebuild whose walk read the message before the delete drops it when it replays the delete.
func TestDeletedStaysOutOfReplayAndRebuild(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 1)
	chat := bt.chats[0]
	index := filepath.Join(dir, "search")
	first := bt.post(t, chat, bt.alice, "the first message")
	ix := openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	cursor := ix.Cursor()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	q := func(word string) []string {
		return find(t, ix, backend.SearchQuery{Terms: terms(t, word), ChatIDs: bt.chats})
	}
	absent := func(when string, words ...string) {
		t.Helper()
		for _, word := range words {
			if got := q(word); got != nil {
				t.Errorf("%s: %s found: %v", when, word, got)
			}
			if files := onDisk(t, index, word); files != nil {
				t.Errorf("%s: %s is in %v", when, word, files)
			}
		}
		if got := q("first"); !slices.Equal(got, []string{first.ID}) {
			t.Errorf("%s: the first message: %v", when, got)
		}
	}

	// While the index is closed, a message is posted, edited, reacted to and deleted.
	doomed := bt.post(t, chat, bt.bob, "zqxtomb8812 was a mistake")
	bt.edit(t, doomed, bt.bob, "zqxtomb8812 and zqxedit4471 were mistakes")
	if _, err := bt.store.React(ctx, chat, doomed.ID, bt.alice.ID, "👍", true); err != nil {
		t.Fatal(err)
	}
	bt.remove(t, doomed, bt.bob)
	carried, posted := 0, false
	for _, ev := range bt.eventsAfter(t, cursor) {
		if ev.Message == nil || ev.Message.ID != doomed.ID {
			continue
		}
		carried++
		posted = posted || ev.Type == backend.EventNewMessage
		if !ev.Message.Deleted || ev.Message.Content != "" {
			t.Errorf("logged %s %s carries %+v, want the tombstone", ev.Type, ev.ID, ev.Message)
		}
	}
	if !posted || carried < 3 {
		t.Fatalf("%d logged events carry the message (NEW_MESSAGE among them: %v), want its NEW_MESSAGE and two MESSAGE_UPDATEDs", carried, posted)
	}

	// Replayed from before the post: the events carry the tombstone, which removes nothing.
	ix = openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if st := ix.Stats(); st.Rebuilds != 0 || st.Batches == 0 || st.Indexed != 0 || st.Removed != 0 {
		t.Errorf("replay: %+v, want the events applied from the cursor and no document written or removed", st)
	}
	absent("replayed", "zqxtomb8812", "zqxedit4471")

	// Rebuilt with the index directory gone: the store's tombstone is not indexed.
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(index); err != nil {
		t.Fatal(err)
	}
	ix = openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if st := ix.Stats(); st.Rebuilds != 1 {
		t.Errorf("with the directory gone: %+v, want a rebuild", st)
	}
	absent("rebuilt", "zqxtomb8812", "zqxedit4471")

	// A rebuild whose walk read a message before it was deleted indexes it, and the delete
	// that follows in the log removes it and erases its words.
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(index); err != nil {
		t.Fatal(err)
	}
	late := bt.post(t, chat, bt.bob, "zqxstale5530 deleted during a rebuild")
	src := &staleSource{MessageSource: bt.store, entered: make(chan struct{}), release: make(chan struct{})}
	ix = openIndex(t, index, bt.store, src)
	<-src.entered
	bt.remove(t, late, bt.bob)
	close(src.release)
	caughtUp(t, ix, bt.last(t))
	if st := ix.Stats(); st.Rebuilds != 1 || st.Removed != 1 {
		t.Errorf("a rebuild that saw the message: %+v, want it removed by the replayed delete", st)
	}
	erased(t, ix)
	absent("rebuilt from a walk before the delete", "zqxstale5530", "zqxtomb8812", "zqxedit4471")
}

// TestErasureAfterRestart: an erasure a shutdown interrupted is done at the next Open.
func TestErasureAfterRestart(t *testing.T) {
	dir := t.TempDir()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 1)
	index := filepath.Join(dir, "search")
	for i := range 30 {
		bt.post(t, bt.chats[0], bt.alice, fmt.Sprintf("filler message %d", i))
	}
	doomed := bt.post(t, bt.chats[0], bt.alice, "zqxrestart3303 goes away")
	ix := openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	if files := onDisk(t, index, "zqxrestart3303"); len(files) == 0 {
		t.Fatal("no index file holds the word before the deletion: the check below would prove nothing")
	}
	bt.remove(t, doomed, bt.alice)
	caughtUp(t, ix, bt.last(t))
	if err := ix.Close(); err != nil { // perhaps before the eraser finished, perhaps after
		t.Fatal(err)
	}
	ix = openIndex(t, index, bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	erased(t, ix)
	if files := onDisk(t, index, "zqxrestart3303"); files != nil {
		t.Errorf("zqxrestart3303 is still in %v", files)
	}
	if st := ix.Stats(); st.Rebuilds != 0 {
		t.Errorf("reopening rebuilt the index: %+v", st)
	}
}

// TestUpdatesWithTheSameContent: reactions, pins, thread counts and an edit to the same content
// write no document. (The reply that changes the thread's counts is a document of its own: the
// store logs the parent's MESSAGE_UPDATED in the reply's commit.)
func TestUpdatesWithTheSameContent(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	bt := newBoltTeam(t, filepath.Join(dir, "herald.db"), 1)
	chat := bt.chats[0]
	m := bt.post(t, chat, bt.alice, "react to this")
	ix := openIndex(t, filepath.Join(dir, "search"), bt.store, bt.store)
	caughtUp(t, ix, bt.last(t))
	cursor, before := ix.Cursor(), ix.Stats()
	for _, step := range []func() (*backend.Message, error){
		func() (*backend.Message, error) { return bt.store.React(ctx, chat, m.ID, bt.bob.ID, "👍", true) },
		func() (*backend.Message, error) { return bt.store.Pin(ctx, chat, m.ID, bt.bob.ID, true) },
		func() (*backend.Message, error) { return bt.reply(t, chat, m.ID, bt.bob, "noted"), nil },
		func() (*backend.Message, error) { return bt.store.React(ctx, chat, m.ID, bt.bob.ID, "👍", false) },
		func() (*backend.Message, error) { return bt.store.Pin(ctx, chat, m.ID, bt.bob.ID, false) },
		func() (*backend.Message, error) { return bt.store.EditMessage(ctx, chat, m.ID, bt.alice.ID, m.Content) },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	caughtUp(t, ix, bt.last(t))
	updates := 0
	for _, ev := range bt.eventsAfter(t, cursor) {
		if ev.Type == backend.EventMessageUpdated && ev.Message != nil && ev.Message.ID == m.ID {
			updates++
		}
	}
	if updates != 5 {
		t.Fatalf("%d MESSAGE_UPDATEDs of the message, want 5 (reaction, pin, reply count, unreaction, unpin)", updates)
	}
	after := ix.Stats()
	if after.Indexed != before.Indexed+1 || after.Removed != before.Removed || after.Batches == before.Batches {
		t.Errorf("stats before %+v, after %+v: want a batch (the cursor), the reply indexed and no other document written", before, after)
	}
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "react"), ChatIDs: bt.chats}); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("found %v", got)
	}
}
