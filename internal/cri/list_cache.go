package cri

import (
	"sync"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// The kubelet lists every pod and container every second, and mostly
// nothing has changed. listCache keeps the last answer of each list call
// (by its filter) with the generation of what it lists, and the answer's
// encoding: while the generation stays, a relist is neither converted nor
// encoded again. It holds answers, not runtime state; what they list lives
// in the registries below.
type listCache struct {
	mu      sync.RWMutex // read on every answer the codec sends
	byKey   map[string]*listAnswer
	byReply map[proto.Message]*listAnswer
}

type listAnswer struct {
	gen   uint64
	reply proto.Message
	once  sync.Once
	wire  []byte
	err   error
}

// listCacheKeys bounds the filters remembered (the kubelet uses a few).
const listCacheKeys = 16

func newListCache() *listCache {
	return &listCache{byKey: map[string]*listAnswer{}, byReply: map[proto.Message]*listAnswer{}}
}

// get returns the answer listed for key at generation gen, if any.
func (c *listCache) get(key string, gen uint64) (proto.Message, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if a, ok := c.byKey[key]; ok && a.gen == gen {
		return a.reply, true
	}
	return nil, false
}

// put keeps reply as the answer for key at generation gen.
func (c *listCache) put(key string, gen uint64, reply proto.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byKey[key]; ok {
		delete(c.byReply, old.reply)
	} else if len(c.byKey) >= listCacheKeys {
		for k, a := range c.byKey { // any one: a filter seldom seen again
			delete(c.byKey, k)
			delete(c.byReply, a.reply)
			break
		}
	}
	a := &listAnswer{gen: gen, reply: reply}
	c.byKey[key], c.byReply[reply] = a, a
}

// encoded returns the encoding of a cached answer, made once.
func (c *listCache) encoded(v any) ([]byte, bool, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, false, nil
	}
	c.mu.RLock()
	a, ok := c.byReply[m]
	c.mu.RUnlock()
	if !ok {
		return nil, false, nil
	}
	a.once.Do(func() { a.wire, a.err = proto.Marshal(a.reply) })
	return a.wire, true, a.err
}

// filterKey names a list call and its filter.
func filterKey(call string, filter proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(filter)
	return call + ":" + string(b)
}

// codec is gRPC's protobuf codec, but a cached list answer is sent as it
// was encoded the first time.
type codec struct {
	encoding.CodecV2
	lists *listCache
}

// Codec is the server codec berthd serves the CRI with (grpc.ForceServerCodecV2).
func (s *Server) Codec() encoding.CodecV2 {
	return codec{CodecV2: encoding.GetCodecV2(grpcproto.Name), lists: s.lists}
}

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	wire, ok, err := c.lists.encoded(v)
	if err != nil {
		return nil, err
	}
	if ok {
		return mem.BufferSlice{mem.SliceBuffer(wire)}, nil // never written to, never pooled
	}
	return c.CodecV2.Marshal(v)
}
