package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

// watchPullProgress subscribes to berthd's progress of pulls of ref. It
// returns nil (no progress) for runtimes without berth's extension.
func (c *client) watchPullProgress(ctx context.Context, ref string) <-chan *structpb.Struct {
	stream, err := c.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, berthinfo.PullProgressMethod)
	if err != nil {
		return nil
	}
	if stream.SendMsg(wrapperspb.String(ref)) != nil || stream.CloseSend() != nil {
		return nil
	}
	first := &structpb.Struct{}
	if stream.RecvMsg(first) != nil || !first.Fields["subscribed"].GetBoolValue() {
		return nil
	}
	out := make(chan *structpb.Struct, 16)
	go func() {
		defer close(out)
		for {
			msg := &structpb.Struct{}
			if stream.RecvMsg(msg) != nil {
				return
			}
			out <- msg
		}
	}()
	return out
}

// layerProgress is one line of the pull display.
type layerProgress struct {
	id             string
	current, total int64
	done, cached   bool
	started        time.Time
}

// progressView draws a bar per layer on a terminal, or a line per layer
// event otherwise.
type progressView struct {
	out    io.Writer
	tty    bool
	layers []*layerProgress
	byID   map[string]*layerProgress
	drawn  int
}

func newProgressView(out io.Writer, tty bool) *progressView {
	return &progressView{out: out, tty: tty, byID: map[string]*layerProgress{}}
}

// update applies one event and redraws.
func (v *progressView) update(ev *structpb.Struct) {
	f := ev.Fields
	id := strings.TrimPrefix(f["layer"].GetStringValue(), "sha256:")
	if id == "" {
		return
	}
	if len(id) > 12 {
		id = id[:12]
	}
	l, ok := v.byID[id]
	if !ok {
		l = &layerProgress{id: id, started: time.Now()}
		v.byID[id] = l
		v.layers = append(v.layers, l)
	}
	wasDone := l.done
	l.current, l.total = int64(f["current"].GetNumberValue()), int64(f["total"].GetNumberValue())
	l.done, l.cached = f["done"].GetBoolValue(), f["cached"].GetBoolValue()
	if v.tty {
		v.redraw()
		return
	}
	switch {
	case l.done && !wasDone && l.cached:
		fmt.Fprintf(v.out, "%s: already present\n", id)
	case l.done && !wasDone:
		fmt.Fprintf(v.out, "%s: pulled %s\n", id, humanSize(uint64(l.total)))
	case !ok:
		fmt.Fprintf(v.out, "%s: downloading %s\n", id, humanSize(uint64(l.total)))
	}
}

func (v *progressView) redraw() {
	if v.drawn > 0 {
		fmt.Fprintf(v.out, "\x1b[%dA", v.drawn)
	}
	for _, l := range v.layers {
		fmt.Fprintf(v.out, "\x1b[2K%s\n", l.line())
	}
	v.drawn = len(v.layers)
}

const barWidth = 30

func (l *layerProgress) line() string {
	switch {
	case l.cached:
		return fmt.Sprintf("%s  already present", l.id)
	case l.done:
		return fmt.Sprintf("%s  [%s]  %s  done", l.id, strings.Repeat("=", barWidth), humanSize(uint64(l.total)))
	}
	frac := 0.0
	if l.total > 0 {
		frac = float64(l.current) / float64(l.total)
	}
	n := int(frac * barWidth)
	bar := strings.Repeat("=", n) + ">" + strings.Repeat(" ", max(barWidth-n-1, 0))
	rate := float64(l.current) / max(time.Since(l.started).Seconds(), 0.001)
	return fmt.Sprintf("%s  [%s]  %s / %s  %s/s", l.id, bar[:barWidth], humanSize(uint64(l.current)),
		humanSize(uint64(l.total)), humanSize(uint64(rate)))
}
