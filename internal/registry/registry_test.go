package registry

import (
	"testing"
	"time"

	"github.com/berth-runtime/berth/internal/errdefs"
)

type thing struct {
	id      string
	created time.Time
	value   int
}

func (t *thing) Key() string        { return t.id }
func (t *thing) Created() time.Time { return t.created }
func (t *thing) Copy() *thing       { c := *t; return &c }

func TestGetListAndCopies(t *testing.T) {
	r := New[*thing]("thing")
	t0 := time.Now()
	r.Put(&thing{id: "abc1", created: t0})
	r.Put(&thing{id: "abc2", created: t0.Add(time.Second)})
	r.Put(&thing{id: "def", created: t0.Add(-time.Second)})
	got, err := r.Get("de")
	if err != nil || got.id != "def" {
		t.Fatalf("by prefix: %v %v", got, err)
	}
	got.value = 9
	if again, _ := r.Get("def"); again.value != 0 {
		t.Fatal("Get handed out the registry's own object")
	}
	if _, err := r.Get("abc"); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	if _, err := r.Get("zzz"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	list := r.List()
	if len(list) != 3 || list[0].id != "abc2" || list[2].id != "def" {
		t.Fatalf("not newest first: %v %v %v", list[0].id, list[1].id, list[2].id)
	}
	if !r.Has("abc1") || r.Has("abc") {
		t.Fatal("Has takes exact IDs only")
	}
}

func TestNamesAreUniqueAndGoWithTheirObject(t *testing.T) {
	r := New[*thing]("thing")
	release, err := r.Reserve("web", "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reserve("web", "b"); !errdefs.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("a second reservation: %v", err)
	}
	if id, reserved, _, recorded := r.Holder("web"); id != "a" || !reserved || recorded {
		t.Fatalf("holder before the record: %q %v %v", id, reserved, recorded)
	}
	r.Put(&thing{id: "a"})
	if _, _, item, recorded := r.Holder("web"); !recorded || item.id != "a" {
		t.Fatal("holder after the record")
	}
	r.Delete("a")
	if _, reserved, _, _ := r.Holder("web"); reserved {
		t.Fatal("the name outlived its object")
	}
	if _, err := r.Reserve("web", "c"); err != nil {
		t.Fatal(err)
	}
	release() // a's late release must not free c's name
	if id, _, _, _ := r.Holder("web"); id != "c" {
		t.Fatalf("a stale release freed another's name: holder %q", id)
	}
}

func TestNewIDsAreFreshHex(t *testing.T) {
	a, b := NewID(), NewID()
	if len(a) != 64 || a == b {
		t.Fatalf("%q %q", a, b)
	}
}

func TestGenerationGrowsWithEveryChange(t *testing.T) {
	r := New[*thing]("thing")
	g0 := r.Generation()
	r.Put(&thing{id: "a"})
	g1 := r.Generation()
	r.Get("a")
	r.List()
	if r.Generation() != g1 || g1 == g0 {
		t.Fatalf("generations %d %d %d: reads must not change it, a put must", g0, g1, r.Generation())
	}
	r.Delete("a")
	if r.Generation() == g1 {
		t.Fatal("a delete left the generation")
	}
}
