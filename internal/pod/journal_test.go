package pod

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-runtime/berth/internal/network"
)

func TestJournalRoundTripAndFallbacks(t *testing.T) {
	dir := t.TempDir()
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	s := &Sandbox{ID: id, Dir: dir, Cgroup: "/kubepods/pod1", Network: &network.Attachment{ConfList: []byte(`{"name":"n"}`)}}
	if err := journal(s); err != nil {
		t.Fatal(err)
	}
	got := readJournal(id, dir)
	if got.Cgroup != "/kubepods/pod1" || got.OwnsCgroup || got.Network == nil || string(got.Network.ConfList) != `{"name":"n"}` {
		t.Fatalf("journal read back as %+v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, journalName+".tmp")); !os.IsNotExist(err) {
		t.Fatalf("temp journal left: %v", err)
	}
	// A torn journal, or one of another pod, tells only what the name does:
	// berth's own cgroup is assumed so that it is looked for.
	for _, content := range []string{`{"id":"012`, `{"id":"other"}`} {
		os.WriteFile(filepath.Join(dir, journalName), []byte(content), 0o600)
		got = readJournal(id, dir)
		if got.ID != id || got.Dir != dir || got.Cgroup != "/berth/"+id || !got.OwnsCgroup || got.Network != nil {
			t.Fatalf("fallback for %q: %+v", content, got)
		}
	}
}

func TestMarkers(t *testing.T) {
	s := &Sandbox{Dir: t.TempDir()}
	if marked(s, markerStopping) {
		t.Fatal("marked before mark")
	}
	mark(s, markerStopping)
	if !marked(s, markerStopping) || marked(s, markerRemoving) {
		t.Fatal("mark")
	}
	unmark(s, markerStopping)
	if marked(s, markerStopping) {
		t.Fatal("unmark")
	}
	gone := &Sandbox{Dir: filepath.Join(t.TempDir(), "gone")}
	mark(gone, markerRemoving) // a lost pod gets no marker, and no directory
	if _, err := os.Stat(gone.Dir); !os.IsNotExist(err) {
		t.Fatal("mark created the directory of a lost pod")
	}
}
