package server

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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

func TestCappedKeepsOnlyTheLimitThroughIOCopy(t *testing.T) {
	c := &capped{limit: 10}
	n, err := io.Copy(c, strings.NewReader(strings.Repeat("x", 100)))
	if err != nil || n != 100 || len(c.Bytes()) != 10 {
		t.Fatalf("copied %d (%v), kept %d bytes", n, err, len(c.Bytes()))
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
