package crilog

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const ts = "2024-01-01T00:00:00.000000001Z"

func TestReaderJoinsPartialLines(t *testing.T) {
	input := ts + " stdout P hel\n" + ts + " stderr F oops\n" + ts + " stdout F lo\n" + ts + " stdout F \n" + ts + " stdout F tail-without-newline"
	r := NewReader(strings.NewReader(input))
	var got []string
	for {
		m, err := r.Next()
		if err != nil {
			break
		}
		got = append(got, m.Stream+":"+string(m.Text))
	}
	want := []string{"stderr:oops", "stdout:hello", "stdout:"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestFollowAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	os.WriteFile(path, []byte(ts+" stdout F one\n"), 0o644)
	var done atomic.Bool
	var got []string
	finished := make(chan error)
	go func() {
		finished <- Follow(path, 0, func(m *Message) { got = append(got, string(m.Text)) }, done.Load)
	}()
	time.Sleep(150 * time.Millisecond)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(ts + " stdout F two\n")
	f.Close()
	time.Sleep(250 * time.Millisecond)
	os.Rename(path, path+".1")
	os.WriteFile(path, []byte(ts+" stdout F three\n"), 0o644)
	time.Sleep(250 * time.Millisecond)
	done.Store(true)
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "one,two,three" {
		t.Fatalf("followed %v", got)
	}
}

func TestReadAllKeepsALastLineWithoutNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("2024-01-01T00:00:00Z stdout F one\n2024-01-01T00:00:01Z stdout P tw\n2024-01-01T00:00:02Z stdout P o\n"), 0o600)
	msgs, err := ReadAll(path)
	if err != nil || len(msgs) != 2 || string(msgs[0].Text) != "one" || msgs[0].Partial ||
		string(msgs[1].Text) != "two" || !msgs[1].Partial {
		t.Fatalf("%v %+v", err, msgs)
	}
}

// ReadComplete stops at the last whole line and says where: a follow from
// there misses nothing written after the read and repeats nothing.
func TestReadCompleteGivesTheOffsetOfWhatItRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	whole := "2026-01-02T03:04:05.000000001Z stdout F one\n2026-01-02T03:04:05.000000002Z stderr F two\n"
	os.WriteFile(path, []byte(whole+"2026-01-02T03:04:05.000000003Z stdout F thr"), 0o600)
	msgs, offset, err := ReadComplete(path)
	if err != nil || len(msgs) != 2 || string(msgs[1].Text) != "two" || offset != int64(len(whole)) {
		t.Fatalf("%d messages, offset %d (want %d), %v", len(msgs), offset, len(whole), err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("ee\n")
	f.Close()
	var rest []string
	Follow(path, offset, func(m *Message) { rest = append(rest, string(m.Text)) }, func() bool { return true })
	if len(rest) != 1 || rest[0] != "three" {
		t.Fatalf("followed %q, want [three]", rest)
	}
}
