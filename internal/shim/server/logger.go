package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// maxLogLine is the longest CRI log line; longer lines are split into
// partial (P) lines, as the kubelet expects.
const maxLogLine = 16 << 10

// criLog writes a container's output to its CRI log file:
//
//	2024-01-01T00:00:00.000000000Z stdout F the line
//
// Both streams share one file; each line is one write.
type criLog struct {
	mu   sync.Mutex
	path string
	file *os.File
	buf  []byte
	loss logLoss
	// onLoss is told the totals whenever they change (at most once a
	// second while writes fail, and when writing works again).
	onLoss func(lines, bytes uint64)
}

// logLoss counts what could not be written (a full disk, say), so that
// nothing is lost without a trace: the next line that can be written is
// preceded by one saying how much was lost and when.
type logLoss struct {
	lines, bytes           uint64 // this episode
	totalLines, totalBytes uint64
	first, last            time.Time
	lastReport             time.Time
	err                    error
	torn                   bool // a line was cut mid-write: end it first
}

func openCRILog(path string) (*criLog, error) {
	l := &criLog{path: path}
	if path == "" {
		return l, nil
	}
	return l, l.reopen()
}

// reopen starts a new file at the same path (after log rotation).
func (l *criLog) reopen() error {
	if l.path == "" {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.file
	l.file = f
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (l *criLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
}

func (l *criLog) writeLine(stream string, partial bool, text []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return
	}
	now := time.Now().UTC()
	if l.loss.lines > 0 && !l.writeLossNotice(now) {
		l.lost(now, len(text), l.loss.err)
		return
	}
	b := l.buf[:0]
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	if partial {
		b = append(b, " P "...)
	} else {
		b = append(b, " F "...)
	}
	b = append(b, text...)
	b = append(b, '\n')
	l.buf = b
	if n, err := l.file.Write(b); err != nil {
		l.loss.torn = l.loss.torn || (n > 0 && !l.takeBack(n))
		l.lost(now, len(text), err)
	}
}

// takeBack removes the n bytes a short write left at the end of the file,
// so that a line is either whole in the log or counted lost, never a
// fragment that reads as a whole line. It reports whether it could.
func (l *criLog) takeBack(n int) bool {
	end, err := l.file.Seek(0, io.SeekCurrent) // O_APPEND: the end of what was written
	if err != nil || end < int64(n) {
		return false
	}
	return l.file.Truncate(end-int64(n)) == nil
}

// lost counts one line that could not be written.
func (l *criLog) lost(now time.Time, n int, err error) {
	if l.loss.lines == 0 {
		l.loss.first = now
		fmt.Fprintf(os.Stderr, "berth-shim: %s: cannot write the container log (%v); counting the lines lost\n", l.path, err)
	}
	l.loss.lines++
	l.loss.bytes += uint64(n)
	l.loss.totalLines++
	l.loss.totalBytes += uint64(n)
	l.loss.last, l.loss.err = now, err
	if now.Sub(l.loss.lastReport) >= time.Second {
		l.loss.lastReport = now
		l.reportLoss()
	}
}

// writeLossNotice writes the line that says what was lost, once writing
// works again; it reports whether it could.
func (l *criLog) writeLossNotice(now time.Time) bool {
	var b []byte
	if l.loss.torn {
		b = append(b, '\n') // end the line a failed write cut
	}
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = fmt.Appendf(b, " stderr F [berth] %d log lines (%d bytes) could not be written between %s and %s: %v\n",
		l.loss.lines, l.loss.bytes, l.loss.first.Format(time.RFC3339Nano), l.loss.last.Format(time.RFC3339Nano), l.loss.err)
	if _, err := l.file.Write(b); err != nil {
		return false
	}
	fmt.Fprintf(os.Stderr, "berth-shim: %s: writing again; %d lines (%d bytes) were lost between %s and %s\n",
		l.path, l.loss.lines, l.loss.bytes, l.loss.first.Format(time.RFC3339Nano), l.loss.last.Format(time.RFC3339Nano))
	l.loss.lines, l.loss.bytes, l.loss.torn = 0, 0, false
	l.reportLoss()
	return true
}

func (l *criLog) reportLoss() {
	if l.onLoss != nil {
		l.onLoss(l.loss.totalLines, l.loss.totalBytes)
	}
}

// lossTotals are the lines and bytes lost since the log was opened.
func (l *criLog) lossTotals() (lines, bytes uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loss.totalLines, l.loss.totalBytes
}

// copyStream reads r to its end, giving each chunk to tee (attached
// clients see output as it comes, prompts included) and writing whole
// lines to the log. It returns when r is closed (the container and
// everything it forked closed it).
func (l *criLog) copyStream(stream string, r io.Reader, tee func(stream string, data []byte)) {
	buf := make([]byte, 32<<10)
	var lines lineSplitter
	emit := func(partial bool, line []byte) { l.writeLine(stream, partial, line) }
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if tee != nil {
				tee(stream, buf[:n])
			}
			lines.feed(buf[:n], emit)
		}
		if err != nil {
			lines.flush(emit)
			return
		}
	}
}

// lineSplitter cuts a byte stream into CRI log lines: whole lines (F) at
// each newline, and partial lines (P) of maxLogLine bytes when a line is
// longer.
type lineSplitter struct{ pending []byte }

func (s *lineSplitter) feed(data []byte, emit func(partial bool, line []byte)) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.pending = append(s.pending, data...)
			data = nil
		} else {
			s.pending = append(s.pending, data[:i+1]...)
			data = data[i+1:]
		}
		for len(s.pending) > maxLogLine && bytes.IndexByte(s.pending, '\n') != maxLogLine {
			emit(true, s.pending[:maxLogLine])
			s.pending = append(s.pending[:0], s.pending[maxLogLine:]...)
		}
		if n := len(s.pending); n > 0 && s.pending[n-1] == '\n' {
			emit(false, trimEOL(s.pending))
			s.pending = s.pending[:0]
		}
	}
}

// flush writes what is left, a last line without a newline, as partial
// (P), as containerd does: the kubelet then adds no newline the container
// never wrote (a termination message read from the log is exact).
func (s *lineSplitter) flush(emit func(partial bool, line []byte)) {
	if len(s.pending) > 0 {
		emit(true, s.pending)
		s.pending = s.pending[:0]
	}
}

func trimEOL(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}
