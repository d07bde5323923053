package server

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCRILogFormatAndSplitting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	l, err := openCRILog(path)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", maxLogLine+10)
	var teed strings.Builder
	tee := func(stream string, data []byte) { teed.Write(data) }
	l.copyStream("stdout", strings.NewReader("hello\r\nworld\n"+long+"\nno newline"), tee)
	l.copyStream("stderr", strings.NewReader("oops\n"), tee)
	if teed.String() != "hello\r\nworld\n"+long+"\nno newline"+"oops\n" {
		t.Errorf("attached clients must get the raw output")
	}
	l.close()
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	want := []struct{ stream, tag, text string }{
		{"stdout", "F", "hello"},
		{"stdout", "F", "world"},
		{"stdout", "P", long[:maxLogLine]},
		{"stdout", "F", long[maxLogLine:]},
		{"stdout", "P", "no newline"}, // the stream ended without a newline
		{"stderr", "F", "oops"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), data)
	}
	re := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z) (stdout|stderr) (P|F) (.*)$`)
	for i, w := range want {
		m := re.FindStringSubmatch(lines[i])
		if m == nil || m[3] != w.stream || m[4] != w.tag || m[5] != w.text {
			t.Errorf("line %d = %.80q, want %s %s %.20q", i, lines[i], w.stream, w.tag, w.text)
		}
	}
}

func TestCRILogReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	l, _ := openCRILog(path)
	l.writeLine("stdout", false, []byte("one"))
	os.Rename(path, path+".1")
	if err := l.reopen(); err != nil {
		t.Fatal(err)
	}
	l.writeLine("stdout", false, []byte("two"))
	l.close()
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.HasSuffix(string(old), " stdout F one\n") || !strings.HasSuffix(string(cur), " stdout F two\n") {
		t.Fatalf("rotated %q, current %q", old, cur)
	}
}

func TestLineSplitterAcrossChunks(t *testing.T) {
	var got []string
	emit := func(partial bool, line []byte) {
		tag := "F"
		if partial {
			tag = "P"
		}
		got = append(got, tag+":"+string(line))
	}
	var s lineSplitter
	for _, chunk := range []string{"ab", "c\nd", "e\n\n", "tail"} {
		s.feed([]byte(chunk), emit)
	}
	s.flush(emit)
	want := "F:abc|F:de|F:|P:tail"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, "|"), want)
	}
}

// On a full disk (here /dev/full: every write is ENOSPC) nothing blocks and
// nothing is lost without a trace: each line is counted, and the first line
// written once writing works again says how many lines and bytes were lost.
func TestLogCountsWhatAFullDiskLoses(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	l := &criLog{path: "/dev/full", file: full}
	var reported []uint64
	l.onLoss = func(lines, _ uint64) { reported = append(reported, lines) }
	for i := 0; i < 3; i++ {
		l.writeLine("stdout", false, []byte("lost"))
	}
	if lines, bytes := l.lossTotals(); lines != 3 || bytes != 12 {
		t.Fatalf("lost %d lines %d bytes, want 3 and 12", lines, bytes)
	}
	path := filepath.Join(t.TempDir(), "log")
	f, _ := os.Create(path)
	l.mu.Lock()
	l.file = f // space again
	l.mu.Unlock()
	l.writeLine("stdout", false, []byte("after"))
	l.close()
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], " stderr F [berth] 3 log lines (12 bytes) could not be written between ") ||
		!strings.Contains(lines[0], "no space left on device") || !strings.HasSuffix(lines[1], " stdout F after") {
		t.Fatalf("log after the disk had room again:\n%s", data)
	}
	if len(reported) == 0 || reported[len(reported)-1] != 3 {
		t.Fatalf("reported %v", reported)
	}
	if lines, _ := l.lossTotals(); lines != 3 {
		t.Fatalf("totals reset: %d", lines)
	}
}

// A write cut short (here by RLIMIT_FSIZE: part of the line fits, then
// EFBIG) leaves no fragment: the bytes that made it are taken back, the
// line is counted lost, and the log holds whole lines only.
func TestShortWriteLeavesNoFragment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	l, err := openCRILog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	l.writeLine("stdout", false, []byte("first"))
	st, _ := os.Stat(path)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	limit := unix.Rlimit{Cur: uint64(st.Size()) + 20, Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &limit); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	l.writeLine("stdout", false, []byte("a line longer than the twenty bytes left"))
	unix.Setrlimit(unix.RLIMIT_FSIZE, &old)
	if after, _ := os.Stat(path); after.Size() != st.Size() {
		t.Fatalf("a fragment of %d bytes was left", after.Size()-st.Size())
	}
	if lines, _ := l.lossTotals(); lines != 1 {
		t.Fatalf("lost %d lines, want 1", lines)
	}
	l.writeLine("stdout", false, []byte("after"))
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], " stdout F first") ||
		!strings.Contains(lines[1], " stderr F [berth] 1 log lines (40 bytes) could not be written") ||
		!strings.HasSuffix(lines[2], " stdout F after") {
		t.Fatalf("log:\n%s", data)
	}
}
